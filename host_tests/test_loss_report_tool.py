"""tools/loss_report.py's own arithmetic: the run limit taken from our give-up schedule,
the cookie-exchange bound, and a failure classified as the run looked at the cut
(--also-at) rather than at its end."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "tools"))
import loss_report as L  # noqa: E402
import rawdtls as R  # noqa: E402


def test_the_default_limit_is_our_clients_give_up_time():
    # 8 transmissions on 1-2-4-8-16-32-60-60 s timeouts (nxsecure/config.py)
    assert L.give_up_s() == 183.0


def test_the_cookie_bound_counts_the_tries_that_fit():
    n, b = L.cookie_bound(300, 60)          # tries at 0, 1, 3, 7, 15, 31 s
    assert n == 6 and abs(b - (1 - (1 - 0.49) ** 6)) < 1e-12
    n, b = L.cookie_bound(300, 183)         # and 63, 123 s; then our client gives up
    assert n == 8 and abs(b - (1 - 0.51 ** 8)) < 1e-12
    assert L.cookie_bound(500, 1000)[0] == 8


class _Run:
    def __init__(self, log, gave_up=()):
        self.log = log
        self.t0 = 0.0
        self.gave_up = list(gave_up)
        self.client = self.server = "ours"


def _hs(direction, t, msg_type, seq, delivered):
    data = R.record(R.CT_HS, 0, seq, R.handshake(msg_type, seq, b"\0" * 4))
    return [t, direction, data, delivered is None, [] if delivered is None else [delivered]]


def test_a_failure_is_classified_as_of_the_cut():
    # the cookie exchange and the second ClientHello go through at once; the server's
    # flight 4 is lost at 0.1 s and first gets through at 65 s; the client then stops
    log = [_hs("up", 0.01, R.HT_CLIENT_HELLO, 0, 0.011),
           _hs("down", 0.02, R.HT_HVR, 0, 0.021),
           _hs("up", 0.03, R.HT_CLIENT_HELLO, 1, 0.031),
           _hs("down", 0.1, R.HT_SERVER_HELLO, 1, None),
           _hs("down", 65.0, R.HT_SERVER_HELLO, 1, 65.01)]
    run = _Run(log, [(100.0, "client", "status 0x1")])
    # within 60 s flight 4 never got through, and nobody had given up yet
    assert L.classify(run, 60) == "lost past limit: flight 4"
    # by the end the client had flight 4 whole and did not answer it
    assert L.classify(run).startswith("record discarded: client (nxsecure) got flight 4")


def test_a_flight_that_comes_after_its_receiver_gave_up_is_not_a_discard():
    # our server ends the handshake at its deadline (40 s); the client's flight 5
    # gets through whole only at 66 s: the server gave up, it threw nothing away
    log = [_hs("up", 0.01, R.HT_CLIENT_HELLO, 0, 0.011),
           _hs("down", 0.02, R.HT_HVR, 0, 0.021),
           _hs("up", 0.03, R.HT_CLIENT_HELLO, 1, 0.031),
           _hs("down", 0.04, R.HT_SERVER_HELLO, 1, 0.041),
           _hs("up", 0.05, R.HT_CKE, 2, None),
           [0.05, "up", R.record(R.CT_CCS, 0, 3, b"\x01"), False, [0.051]],
           [0.05, "up", R.record(R.CT_HS, 1, 0, b"\0" * 40), False, [0.051]],
           _hs("up", 66.0, R.HT_CKE, 2, 66.01)]
    run = _Run(log, [(40.1, "server", "error_notify 0x29")])
    assert L.classify(run).startswith("gave up: server (nxsecure, error_notify 0x29) at 40.1 s")
    run.gave_up = []
    assert L.classify(run).startswith("record discarded: server (nxsecure) got flight 5")
