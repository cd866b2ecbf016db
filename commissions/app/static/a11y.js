// Keyboard users scroll wide tables too (WCAG 2.1.1; axe's scrollable-region-focusable, issue 17). A table,
// listing or grid that scrolls sideways inside its own container (a phone, a long quota grid) becomes a tab stop
// when, and only while, it overflows and holds nothing focusable: arrow keys then scroll it. Elements with a
// tabindex of their own are left alone. No inline handlers: the content security policy forbids them.
(() => {
  const FOCUSABLE = "a[href], button, input, select, textarea, summary, [tabindex]";
  const MARK = "data-scroll-focus";
  const scrolls = (el) => {
    if (el.scrollWidth <= el.clientWidth + 1 && el.scrollHeight <= el.clientHeight + 1) return false;
    const style = getComputedStyle(el);
    return /(auto|scroll)/.test(style.overflowX + style.overflowY);
  };
  const mark = () => {
    for (const el of document.querySelectorAll(`[${MARK}]`)) {
      if (!scrolls(el)) { el.removeAttribute("tabindex"); el.removeAttribute(MARK); }
    }
    for (const el of document.querySelectorAll("main *")) {
      if (el.hasAttribute("tabindex") || !scrolls(el) || el.querySelector(FOCUSABLE)) continue;
      el.setAttribute("tabindex", "0");
      el.setAttribute(MARK, "");
    }
  };
  let pending = 0;
  const later = () => { cancelAnimationFrame(pending); pending = requestAnimationFrame(mark); };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", mark);
  else mark();
  window.addEventListener("resize", later);
  document.addEventListener("htmx:afterSettle", later);
})();

// The phone's navigation row scrolls sideways: the page's own item is scrolled into view, and the row is marked
// (data-more, which app.css fades) while links lie off to its right.
(() => {
  const row = document.querySelector(".topbar nav ul");
  if (!row) return;
  const current = row.querySelector("[aria-current=page]");
  if (current && row.scrollWidth > row.clientWidth) {
    const left = current.getBoundingClientRect().left - row.getBoundingClientRect().left + row.scrollLeft;
    row.scrollLeft = Math.max(0, left - row.clientWidth / 2 + current.offsetWidth / 2);
  }
  const mark = () => row.toggleAttribute("data-more", row.scrollLeft + row.clientWidth < row.scrollWidth - 2);
  row.addEventListener("scroll", mark, { passive: true });
  window.addEventListener("resize", mark);
  mark();
})();
