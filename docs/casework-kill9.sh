#!/bin/bash
# kill -9 during the drain of a backlog of move-in reports; every report completes once.
# Spawns ./minwon demo (BIN=...) on a fresh directory under W (default /tmp/cwk): 200 reports are
# submitted while the registry answers 503, the registry is healed, the demo is killed with
# SIGKILL once the registry has applied 40 of them, restarted, and every report is checked to
# have completed exactly once, and the registry's journal to hold one write per report.
set -u
BIN=${BIN:-./minwon}; W=${W:-/tmp/cwk}; D=$W/data; ADDR=${ADDR:-127.0.0.1:28611}; B=http://$ADDR
mkdir -p $W
rm -rf $D; mkdir -p $D
start() { $BIN demo --data $D --people 400 --addr $ADDR >> $W/demo.log 2>&1 & echo $! > $W/pid;
  for i in $(seq 1 900); do curl -sf $B/api/v1/services >/dev/null && return 0; sleep 0.2; done; echo "demo did not start"; exit 1; }
start
REG=$(python3 -c "import json;print(json.load(open('$D/urls.json'))['agencies']['registry'])")
CURL="curl -s --cert $D/pki/officials/op001.pem --key $D/pki/officials/op001.key --cacert $D/pki/ca.pem"
$CURL -X PUT -d '{"error":1}' $REG/_faults >/dev/null
python3 - "$B" "$D" "$W" <<'PY'
import csv, json, sys, urllib.request
B, D = sys.argv[1], sys.argv[2]
rows = [r for r in csv.DictReader(open(D + "/demo-accounts.csv")) if r["kind"] == "person" and r["birth_date"] < "2000"][:40]
def call(method, path, body=None, token=None, key=None):
    req = urllib.request.Request(B + path, method=method, data=json.dumps(body).encode() if body is not None else None)
    req.add_header("Content-Type", "application/json")
    if token: req.add_header("Authorization", "Bearer " + token)
    if key: req.add_header("Idempotency-Key", key)
    with urllib.request.urlopen(req) as r: return r.status, json.load(r)
ids = []
for i, r in enumerate(rows):
    _, tok = call("POST", "/api/v1/login", {"login": r["login"], "password": r["password"]})
    for k in range(5):
        st, a = call("POST", "/api/v1/applications", {"service": "move-in-report", "payload": {"new_address": "서울특별시 관악구 행운로 %d" % (i * 5 + k + 1), "moved_in": "2026-11-30"}}, tok["token"], "k9-%d-%d" % (i, k))
        assert st == 202, st
        ids.append((tok["token"], a["id"]))
json.dump(ids, open(sys.argv[3] + "/ids.json", "w"))
print("submitted", len(ids), "while the registry was down")
PY
$CURL -X PUT -d '{}' $REG/_faults >/dev/null
for i in $(seq 1 600); do n=$(cat $D/agencies/registry-journal.jsonl 2>/dev/null | grep -c .); [ "$n" -ge 40 ] && break; sleep 0.05; done
kill -9 $(cat $W/pid); echo "kill -9 during the drain: $(grep -c . $D/agencies/registry-journal.jsonl) writes in the registry's journal"
sleep 0.5
start
python3 - "$B" "$W" <<'PY'
import json, sys, time, urllib.request, collections
B = sys.argv[1]
ids = json.load(open(sys.argv[2] + "/ids.json"))
def get(tok, id):
    req = urllib.request.Request(B + "/api/v1/applications/" + id); req.add_header("Authorization", "Bearer " + tok)
    with urllib.request.urlopen(req) as r: return json.load(r)
deadline = time.time() + 300
while True:
    apps = [get(t, i) for t, i in ids]
    done = [a for a in apps if a["status"] in ("completed", "failed")]
    if len(done) == len(apps) or time.time() > deadline: break
    time.sleep(1)
st = collections.Counter(a["status"] for a in apps)
twice = [a["id"] for a in apps if [h["status"] for h in a["history"]].count("completed") != 1]
print("statuses", dict(st), "completed not exactly once:", len(twice))
PY
python3 - "$D" <<'PY'
import json, sys, collections
D = sys.argv[1]
lines = [json.loads(l) for l in open(D + "/agencies/registry-journal.jsonl")]
ids = collections.Counter(l["request"]["request_id"] for l in lines)
addrs = collections.Counter(json.loads(__import__("base64").b64decode(l["body"]))["status"] for l in lines)
print("registry journal:", len(lines), "writes,", len(ids), "distinct request ids,", dict(addrs))
PY
kill $(cat $W/pid)
