// A form marked data-confirm="question" asks before it is sent: the one-click actions that move pay or access
// (cancel a deal, approve, lock, revoke, deactivate, reverse). Without JavaScript the form simply posts, as every
// form here works without it. No inline handlers: the content security policy forbids them. The listener runs
// in the capture phase, so a declined question stops htmx from sending the form too.
document.addEventListener("submit", (event) => {
  const form = event.target;
  const question = form instanceof HTMLFormElement ? form.dataset.confirm : undefined;
  if (question && !window.confirm(question)) {
    event.preventDefault();
    event.stopImmediatePropagation();
  }
}, true);
