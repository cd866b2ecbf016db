// Contest countdowns tick once a second ("3 days 4 h", "2 h 5 min", "4 min 9 s"); the
// server renders the same text, so without JavaScript the page still says how long is left.
// At zero the page reloads once: the contest has started (its rules are locked) or ended. If
// the server still shows the same countdown (this computer's clock is ahead), it does not
// reload again.
(() => {
  // The units come from the page, in its language (data-countdown-words: "%(num)d day", "%(num)d h"...).
  const ENGLISH = {day: "%(num)d day", days: "%(num)d days", h: "%(num)d h", min: "%(num)d min", s: "%(num)d s"};
  const count = (pattern, n) => pattern.replace("%(num)d", String(n));
  const format = (ms, words) => {
    const total = Math.max(0, Math.floor(ms / 1000));
    const days = Math.floor(total / 86400), hours = Math.floor(total % 86400 / 3600);
    const minutes = Math.floor(total % 3600 / 60), seconds = total % 60;
    if (days) return `${count(days === 1 ? words.day : words.days, days)} ${count(words.h, hours)}`;
    if (hours) return `${count(words.h, hours)} ${count(words.min, minutes)}`;
    return `${count(words.min, minutes)} ${count(words.s, seconds)}`;
  };
  const tick = () => {
    for (const el of document.querySelectorAll("[data-countdown-until]")) {
      const left = Date.parse(el.dataset.countdownUntil) - Date.now();
      const reloadedFor = `countdown-reloaded:${el.dataset.countdownUntil}`;
      if (left <= 0 && !sessionStorage.getItem(reloadedFor)) {
        sessionStorage.setItem(reloadedFor, "1");
        window.location.reload();
      }
      const words = el.dataset.countdownWords ? JSON.parse(el.dataset.countdownWords) : ENGLISH;
      el.textContent = (el.dataset.countdownBefore || "") + format(left, words) + (el.dataset.countdownAfter || "");
    }
  };
  tick();
  setInterval(tick, 1000);
})();
