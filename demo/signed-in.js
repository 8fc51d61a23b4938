// The signed-in demo: the "site" has a signed-in user (?user=ada or ?user=grace) and hands the
// widget a token provider that asks its backend, here the chat server's /demo-token, for a token.
const params = new URLSearchParams(location.search);
const user = params.get("user") === "grace" ? "grace" : "ada";
const names = { ada: "Ada Lovelace", grace: "Grace Hopper" };
const status = document.querySelector("[data-demo-status]");

document.querySelector("[data-demo-name]").textContent = names[user];
const select = document.querySelector('.controls select[name="user"]');
select.value = user;
select.addEventListener("change", () => {
  params.set("user", select.value);
  location.search = params.toString();
});

const widget = document.querySelector("chat-widget");
widget.tokenProvider = async () => {
  const response = await fetch(`/demo-token?user=${user}`, { cache: "no-store" });
  if (!response.ok) {
    status.hidden = false;
    status.textContent = response.status === 404
      ? "This server signs no demo tokens: start it with deno task serve:signed-in."
      : `The demo token could not be had (HTTP ${response.status}).`;
    throw new Error(`GET /demo-token: ${response.status}`);
  }
  status.hidden = true;
  return (await response.json()).token;
};
