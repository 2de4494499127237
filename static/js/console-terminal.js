// A serial terminal through the portal's websocket (xterm.js), in Proxmox's termproxy
// protocol: "0:<bytes>:<text>" for input, "1:<cols>:<rows>:" for a resize, "2" to keep alive.
const box = document.getElementById("console-terminal");
const status = document.getElementById("console-status");
const term = new Terminal({ cursorBlink: true, convertEol: false });
const fit = new FitAddon.FitAddon();
term.loadAddon(fit);
term.open(box);
fit.fit();

const socket = new WebSocket(box.dataset.socket, ["binary"]);
socket.binaryType = "arraybuffer";
const bytes = (text) => new TextEncoder().encode(text).length;
const resize = () => socket.send(`1:${term.cols}:${term.rows}:`);

socket.addEventListener("open", () => {
  status.textContent = "Connected.";
  box.dataset.connected = "true";
  resize();
  term.focus();
  setInterval(() => socket.readyState === WebSocket.OPEN && socket.send("2"), 30000);
});
socket.addEventListener("message", (event) => {
  term.write(typeof event.data === "string" ? event.data : new Uint8Array(event.data));
});
socket.addEventListener("close", (event) => {
  box.dataset.connected = "false";
  status.textContent = event.reason
    ? `${event.reason} Reconnect to try again.`
    : "The terminal closed. Reconnect to open it again.";
});
term.onData((text) => socket.send(`0:${bytes(text)}:${text}`));
term.onResize(() => socket.readyState === WebSocket.OPEN && resize());
window.addEventListener("resize", () => fit.fit());
document.querySelector("[data-console=reconnect]").addEventListener("click", () => {
  window.location.assign(box.dataset.reopen);
});
