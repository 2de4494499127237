"""A bounded load run: simulated browsers mixing the dashboard, a guest page, a task poll and
an app page, spread over one or more portal instances.

    LOAD_HOSTS="http://127.0.0.1:5000 http://127.0.0.1:5001" LOAD_COOKIE=<session cookie> \\
    LOAD_GUEST=/guests/pve1/qemu/100 LOAD_TASK=/tasks/1 LOAD_APP=/my-apps/1 \\
    locust -f bench/locustfile.py --headless -u 50 -r 25 -t 30s --host http://127.0.0.1:5000

Every user takes the session cookie of a logged-in admin (a session made on one instance
works on all of them) and picks an instance at random for each request.
"""

import os
import random

from locust import HttpUser, between, task

HOSTS = os.environ["LOAD_HOSTS"].split()


class Browser(HttpUser):
    wait_time = between(0.2, 1.0)

    def on_start(self):
        self.client.headers["Cookie"] = os.environ["LOAD_COOKIE"]

    def _get(self, path: str, name: str) -> None:
        with self.client.get(random.choice(HOSTS) + path, name=name, allow_redirects=False,
                             catch_response=True) as response:  # fmt: skip
            if response.status_code != 200:
                response.failure(f"{response.status_code} for {path}")

    @task(4)
    def dashboard(self):
        self._get("/", "dashboard")

    @task(3)
    def guest_page(self):
        self._get(os.environ["LOAD_GUEST"], "guest page")

    @task(2)
    def task_poll(self):
        self._get(os.environ["LOAD_TASK"] + "/progress?start=0", "task poll")

    @task(2)
    def app_page(self):
        self._get(os.environ["LOAD_APP"], "app page")
