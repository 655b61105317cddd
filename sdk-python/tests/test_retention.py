"""Versions, retention and backpressure through the SDK: deploy with a
retention and a version cadence, user-made versions that survive thinning,
rollback to a thinned version, dataset retention, and the retry of REST
requests refused with HTTP 429."""

from __future__ import annotations

import datetime as dt
import http.server
import json
import threading
import time

import pytest

import spate as tb
from spate.common.api import api

ROWS = 3000


def wait_for(pred, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while True:
        value = pred()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


@pytest.fixture(scope="module")
def fraud(spate_server):
    tb.init(backend_url=spate_server.url, api_key=spate_server.api_key)
    return (tb.datasets.FraudDetectionDatasetFeatures(rows=ROWS).df,
            tb.datasets.FraudDetectionDatasetLabels(rows=ROWS).df)


def test_versions_thinning_pinned_and_retention(fraud):
    tx, lb = fraud
    transactions = tb.OnlineDataset.from_pd(tx.iloc[:0], id="r_transactions", key_field="transactionID")
    labels = tb.OnlineDataset.from_pd(lb.iloc[:0], id="r_labels", key_field="transactionID")
    model = tb.HoeffdingTreeClassifier(n_classes=2)
    inputs = transactions.get_model_inputs(numerical_fields=["transactionAmount", "localHour"])
    with pytest.raises(ValueError, match="unknown retention fields"):
        model.deploy("r_bad", input=inputs, labels=labels.get_model_labels("is_fraud"), retention={"days": 2})
    deployed = model.deploy(
        "r_model", input=inputs, labels=labels.get_model_labels("is_fraud"),
        version_every_samples=200, keep_versions=2,
        retention=tb.Retention(max_age=dt.timedelta(days=2), max_bytes=1 << 30),
    )
    info = deployed.info
    assert (info.version_every_samples, info.keep_versions) == (200, 2)
    assert deployed.retention == tb.Retention(max_age=dt.timedelta(days=2), max_bytes=1 << 30)

    pinned = None
    for i, start in enumerate(range(0, ROWS, 250)):
        transactions.add_pd(tx.iloc[start:start + 250])
        labels.add_pd(lb.iloc[start:start + 250])
        wait_for(lambda: deployed.stats()["learned"] >= start + 250, 60, f"{start + 250} rows learned")
        if i == 1:
            pinned = deployed.save_version(name="before the campaign")
    versions = deployed.versions()
    assert {"label", "pinned", "thinned"} <= set(versions.columns)
    row = versions.set_index("id").loc[pinned]
    assert row["pinned"] and not row["thinned"] and row["label"] == "before the campaign"
    thinned = versions[versions["thinned"]]
    assert len(thinned) > 0, versions
    assert len(versions[~versions["thinned"] & ~versions["pinned"]]) < len(versions) - len(thinned) + 1
    with pytest.raises(tb.NotFoundException, match="thinned"):
        deployed.rollback(int(thinned["id"].iloc[0]))
    assert deployed.rollback(pinned) > pinned

    # Retention can be changed at any time; negative means no bound.
    ret = deployed.set_retention(max_age=-1, max_bytes=5 << 30)
    assert ret == tb.Retention(max_age=dt.timedelta(0), max_bytes=5 << 30)
    with pytest.raises(ValueError, match="too large"):
        deployed.set_retention(max_age=1 << 62)
    assert transactions.set_retention(max_bytes=-1).max_bytes == 0
    assert transactions.retention.max_age == dt.timedelta(days=7)  # the server's default
    # Outputs keep their offsets (output i is for input row i).
    out = deployed.get_outputs_df()
    assert list(out["offset"][:3]) == [0, 1, 2] and len(out) == ROWS


class _Stub(http.server.BaseHTTPRequestHandler):
    """Answers 429 (Retry-After: 0) `refusals` times, then 200."""

    refusals = 2
    bodies: list[bytes] = []

    def do_POST(self):  # noqa: N802 - the handler's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).bodies.append(body)
        if len(type(self).bodies) <= type(self).refusals:
            detail = json.dumps({"detail": "dataset 'd' is 9000 rows ahead of its slowest consumer, model \"m\"",
                                 "lagging": 'model "m"', "retry_after_seconds": 0.05}).encode()
            self.send_response(429)
            self.send_header("Retry-After", "0")
        else:
            detail = b'{"first_offset": 0, "rows": 1}'
            self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(detail)))
        self.end_headers()
        self.wfile.write(detail)

    def log_message(self, *args):
        pass


@pytest.fixture
def stub():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Stub)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    _Stub.bodies = []
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()


def test_rest_retries_429_honouring_retry_after(stub):
    _Stub.refusals = 2
    r = api.request_url("POST", stub + "/api/dataset/d/upload", json=[{"id": "a"}])
    assert r.json() == {"first_offset": 0, "rows": 1}
    assert len(_Stub.bodies) == 3 and len(set(_Stub.bodies)) == 1  # the same body, sent again


def test_rest_gives_up_after_max_backpressure_wait(stub, monkeypatch):
    _Stub.refusals = 1000
    monkeypatch.setattr(type(api), "max_backpressure_wait", 0.3)
    with pytest.raises(tb.ApiException, match="ahead of its slowest consumer") as e:
        api.request_url("POST", stub + "/api/dataset/d/upload", json=[{"id": "a"}])
    assert e.value.status_code == 429
    assert 2 <= len(_Stub.bodies) < 100
