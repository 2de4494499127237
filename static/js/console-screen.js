// A VM's screen through the portal's websocket (noVNC). The portal answers the VNC password
// itself, so the page holds none; a new connection needs a new page (its token is one-time).
import RFB from "../vendor/novnc/core/rfb.js";

const screen = document.getElementById("console-screen");
const status = document.getElementById("console-status");
const socket = new WebSocket(screen.dataset.socket, ["binary"]);
let closedBecause = "";
socket.addEventListener("close", (event) => { closedBecause = event.reason; });

const rfb = new RFB(screen, socket);
rfb.scaleViewport = true;
rfb.focusOnClick = true;
rfb.addEventListener("connect", () => {
  status.textContent = "Connected.";
  screen.dataset.connected = "true";
  rfb.focus();
});
rfb.addEventListener("disconnect", () => {
  screen.dataset.connected = "false";
  status.textContent = closedBecause
    ? `${closedBecause} Reconnect to try again.`
    : "The console closed. Reconnect to open it again.";
});

// X11's rule: Latin-1 characters are their own keysym, others are 0x01000000 + code point.
function keysymOf(char) {
  const special = { "\n": 0xff0d, "\t": 0xff09 };
  const code = char.codePointAt(0);
  return special[char] ?? (code < 0x100 ? code : 0x01000000 + code);
}

function typeText(text) {
  for (const char of text.replaceAll("\r", "")) {
    rfb.sendKey(keysymOf(char), null);
  }
}

function toggleScaling(button) {
  rfb.scaleViewport = !rfb.scaleViewport;
  button.setAttribute("aria-pressed", String(rfb.scaleViewport));
}

const actions = {
  "ctrl-alt-del": () => rfb.sendCtrlAltDel(),
  scale: toggleScaling,
  fullscreen: () => screen.requestFullscreen(),
  reconnect: () => window.location.assign(screen.dataset.reopen),
};
document.querySelectorAll("[data-console]").forEach((button) => {
  button.addEventListener("click", () => actions[button.dataset.console](button));
});
document.getElementById("console-paste").addEventListener("submit", (event) => {
  event.preventDefault();
  const field = event.target.elements.text;
  typeText(field.value);
  field.value = "";
  rfb.focus();
});
