// The leaderboard's small behaviours (the CSP allows scripts from 'self' only, none inline):
// - the viewer's own deal is celebrated (leaderboard/stream.py renders it with `mine`): a close button and Escape
//   dismiss it; it fades by itself (CSS), without motion for people who ask for reduced motion;
// - the team selector applies to the Team view only: it is switched off, and says what is shown, in the others.
(() => {
  document.addEventListener("click", (event) => {
    const close = event.target.closest("[data-cheer-close]");
    if (close) close.closest(".cheer")?.remove();
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape") document.querySelectorAll("[data-cheer-mine]").forEach((el) => el.remove());
  });
  const syncTeam = (form) => {
    const view = form.querySelector("select[name=view]");
    const team = form.querySelector("select[name=team]");
    if (!view || !team) return;
    team.disabled = view.value !== "team";
    const empty = team.querySelector("option[value='']");
    if (empty) empty.textContent = empty.dataset["label_" + view.value] || empty.textContent;
    if (team.disabled) team.value = "";
  };
  document.addEventListener("change", (event) => {
    if (event.target.matches("#board-form select[name=view]")) syncTeam(event.target.form);
  }, true);  // before htmx sends the form: a disabled selector is not sent
  document.addEventListener("DOMContentLoaded", () => {
    const form = document.getElementById("board-form");
    if (form) syncTeam(form);
  });
})();
