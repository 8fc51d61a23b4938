// Demo controls: ?theme=dark&lang=ar (or the selects on the page) set the widgets' attributes.
const params = new URLSearchParams(location.search);
const widgets = () => document.querySelectorAll("chat-widget");

function apply(name, value) {
  if (!value) return;
  for (const widget of widgets()) widget.setAttribute(name, value);
  const select = document.querySelector(`.controls select[name="${name}"]`);
  if (select) select.value = value;
}

apply("theme", params.get("theme"));
apply("lang", params.get("lang"));
if (params.get("theme") === "dark") document.documentElement.classList.add("dark");

for (const select of document.querySelectorAll(".controls select")) {
  select.addEventListener("change", () => {
    apply(select.name, select.value);
    if (select.name === "theme") {
      document.documentElement.classList.toggle("dark", select.value === "dark");
    }
  });
}

// A host page can react to the widget's events, e.g. show unread messages in the tab title (a
// widget with notify="title" does that itself, as the support page's does).
if (!document.querySelector("chat-widget[notify~=title]")) {
  const title = document.title;
  document.addEventListener("chat-unread-change", (event) => {
    document.title = event.detail.total ? `(${event.detail.total}) ${title}` : title;
  });
}
