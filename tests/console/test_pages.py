"""The console pages say why a console cannot open instead of opening one that fails: a
stopped guest, a VM without a serial port. A VM with one has a terminal like a container."""

from app.extensions import db
from app.models import ConsoleSession
from tests.conftest import ADMIN_PASSWORD
from tests.console.conftest import signed_in, socket_path
from tests.console.test_socket import open_console

TERMINAL = "/guests/pve1/qemu/101/console/terminal"


def test_a_stopped_guest_has_no_console_to_open(pve, vm, served):
    vm.status = "stopped"
    alice = signed_in(served, "alice", ADMIN_PASSWORD)
    page = alice.get(served + "/guests/pve1/qemu/101/console/screen").text
    assert "desk is stopped: start it to open its console." in page
    assert "data-socket" not in page


def test_a_vm_without_a_serial_port_has_no_terminal(app, vm, served):
    alice = signed_in(served, "alice", ADMIN_PASSWORD)
    page = alice.get(served + TERMINAL).text
    assert "desk has no serial port, so it has no terminal" in page
    assert "qm set 101 --serial0 socket" in page and "data-socket" not in page
    guest = alice.get(served + "/guests/pve1/qemu/101").text
    assert "/console/screen" in guest and "/console/terminal" not in guest
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(ConsoleSession.id))) == 0


def test_a_vm_with_a_serial_port_has_a_terminal(pve, vm, served):
    vm.config["serial0"] = "socket"
    alice = signed_in(served, "alice", ADMIN_PASSWORD)
    guest = alice.get(served + "/guests/pve1/qemu/101").text
    assert "/console/terminal" in guest and "<dt>Serial port</dt><dd>socket</dd>" in guest
    page = alice.get(served + TERMINAL).text
    with open_console(served, alice, path=socket_path(page)) as socket:
        assert b"starting serial terminal on interface serial0" in socket.recv(5)
        socket.send("1:100:30:")
        socket.send("0:3:ls\r")
        assert socket.recv(5) == b"ls\r"
    assert pve.termdata[-2:] == ["1:100:30:", "0:3:ls\r"]
