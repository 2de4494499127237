// Live regions (elements with data-live that htmx refreshes "every N s") rest while the tab is
// hidden, and refresh at once when it is shown again.
document.addEventListener("htmx:beforeRequest", (event) => {
  if (document.hidden && event.detail.elt.hasAttribute("data-live")) {
    event.preventDefault();
  }
});
document.addEventListener("visibilitychange", () => {
  if (!document.hidden) {
    document.querySelectorAll("[data-live]").forEach((element) => htmx.trigger(element, "refresh"));
  }
});
