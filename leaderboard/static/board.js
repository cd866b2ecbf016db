// The leaderboard's small behaviours (the CSP allows scripts from 'self' only, none inline):
// - the viewer's own deal is celebrated (leaderboard/stream.py renders it with `mine`): a close button and Escape
//   dismiss it; it fades by itself (CSS), without motion for people who ask for reduced motion;
// - the team selector applies to the Team view only: it is switched off, and says what is shown, in the others;
// - the form always says what the board shows: Back and Forward restore a board (htmx's history, or the browser's
//   page cache) with the form as it was when the page was left, so it is set again from the board's own
//   description (the `.board-says` line the server renders with the board).
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
  const syncForm = () => {
    const form = document.getElementById("board-form");
    if (!form) return;
    const shown = document.querySelector("#board .board-says");
    if (shown) {
      const set = (name, value) => {
        const field = form.elements.namedItem(name);
        if (field && value !== undefined) field.value = value;
      };
      set("view", shown.dataset.view);
      set("metric", shown.dataset.metric);
      set("period", shown.dataset.period);
      const around = form.elements.namedItem("around_me");
      if (around) around.checked = shown.dataset.around === "true";
      syncTeam(form);
      set("team", shown.dataset.team);
    }
    syncTeam(form);
  };
  document.addEventListener("DOMContentLoaded", syncForm);
  document.addEventListener("htmx:historyRestore", syncForm);
  window.addEventListener("pageshow", (event) => {
    if (event.persisted) syncForm();  // the browser's page cache: its form kept the values it had when left
  });
})();
