// The only script of `triage serve`: the copy buttons, and the browser's time zone as the
// default where a page offers one. Every page works without it.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  const params = new URLSearchParams(window.location.search);
  for (const field of document.querySelectorAll("[data-browser-tz]")) {
    if (params.get("tz")) continue; // a zone chosen, or in a link: kept
    if (field.tagName === "SELECT") {
      if (![...field.options].some((o) => o.value === browserZone)) continue;
      field.value = browserZone;
      // a page whose times are shown in that zone: shown again in the browser's
      if ("apply" in field.dataset && browserZone !== "UTC") {
        params.set("tz", browserZone);
        window.location.replace(`${window.location.pathname}?${params}`);
        return;
      }
    } else {
      field.value = browserZone;
    }
  }
  const status = document.querySelector(".copied");
  for (const button of document.querySelectorAll("button.copy")) {
    const source = document.getElementById(button.dataset.copy);
    if (!source || !navigator.clipboard) continue;
    button.hidden = false;
    button.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(source.textContent);
        if (status) status.textContent = "Copied.";
      } catch (err) {
        if (status) status.textContent = "Could not copy: select the text below instead.";
      }
    });
  }
});
