#!/usr/bin/env bash
# Load-test a real `anavara serve` on loopback with wrk.
#
#   scripts/loadtest.sh                  # 15 s per endpoint on 127.0.0.1:18080
#   PORT=18090 DURATION=30 scripts/loadtest.sh   # seconds per wrk run
#   ENDPOINTS=create CONNECTIONS=32 scripts/loadtest.sh   # creates only
#   BINARY=/tmp/anavara-old ENDPOINTS=create scripts/loadtest.sh   # a binary built elsewhere
#
# It builds the binary, starts it on a fresh data directory (loopback only),
# signs one patient up (the sign-up limit is 20 an hour per IP, so it never
# signs up again and reuses the access token, which lasts 15 minutes),
# creates 20 records through the API, then runs wrk against the records list,
# a search of them (search=check matches all 20) and /healthz, and last (they add records to the patient's list) POSTs of
# one record (create), as ENDPOINTS chooses. The server, its data and the
# binary are removed on exit; BINARY, when set, is run instead of building
# one, and left alone.
# Needs: go, curl, wrk (installed with apt-get when missing and run as root).
set -euo pipefail

PORT="${PORT:-18080}"
DURATION="${DURATION:-15}" # seconds per wrk run
case "${DURATION}" in *[!0-9]* | "") echo "DURATION is whole seconds, e.g. DURATION=15" >&2; exit 2 ;; esac
THREADS="${THREADS:-2}"
CONNECTIONS="${CONNECTIONS:-16}"
ENDPOINTS="${ENDPOINTS:-list search healthz create}"
for e in ${ENDPOINTS}; do
	case "${e}" in list | search | healthz | create) ;; *) echo "ENDPOINTS names list, search, healthz or create, not ${e}" >&2; exit 2 ;; esac
done
BINARY="${BINARY:-}"
PASSWORD='Vq7!plum-Orbit-42'
BASE="http://127.0.0.1:${PORT}"

cd "$(dirname "$0")/.."

if ! command -v wrk >/dev/null 2>&1; then
	if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
		apt-get update && apt-get install -y wrk
	else
		echo "wrk is not installed: run 'apt-get update && apt-get install -y wrk' as root" >&2
		exit 1
	fi
fi

if curl -s --max-time 2 -o /dev/null "${BASE}/" 2>/dev/null; then
	echo "something already answers on ${BASE}; choose another PORT" >&2
	exit 1
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/anavara-loadtest.XXXXXX")"
SERVER_PID=""
cleanup() {
	if [ -n "${SERVER_PID}" ] && kill -0 "${SERVER_PID}" 2>/dev/null; then
		kill "${SERVER_PID}" 2>/dev/null || true
		# Give it its shutdown window, then insist.
		for _ in $(seq 50); do
			kill -0 "${SERVER_PID}" 2>/dev/null || break
			sleep 0.1
		done
		kill -9 "${SERVER_PID}" 2>/dev/null || true
		wait "${SERVER_PID}" 2>/dev/null || true
	fi
	rm -rf "${WORK}"
}
trap cleanup EXIT INT TERM

if [ -n "${BINARY}" ]; then
	ANAVARA="${BINARY}"
	echo "== using ${ANAVARA}"
else
	ANAVARA="${WORK}/anavara"
	echo "== building"
	go build -o "${ANAVARA}" .
fi

# Listen on loopback only. The SSH front end, when this build has one, is
# not under test: switch it off rather than open another port.
SERVE_FLAGS=(--data-dir "${WORK}/data" --http "127.0.0.1:${PORT}")
if "${ANAVARA}" serve --help 2>&1 | grep -q -- '--ssh string'; then
	SERVE_FLAGS+=(--ssh "")
fi
echo "== starting anavara serve ${SERVE_FLAGS[*]}"
"${ANAVARA}" serve "${SERVE_FLAGS[@]}" >"${WORK}/server.log" 2>&1 &
SERVER_PID=$!
for i in $(seq 100); do
	if curl -sf --max-time 1 -o /dev/null "${BASE}/healthz"; then
		break
	fi
	if ! kill -0 "${SERVER_PID}" 2>/dev/null || [ "$i" -eq 100 ]; then
		echo "server did not come up:" >&2
		cat "${WORK}/server.log" >&2
		exit 1
	fi
	sleep 0.1
done

# post PATH JSON [TOKEN]: POST JSON and print the body; fail on non-2xx.
post() {
	local auth=()
	if [ $# -ge 3 ]; then
		auth=(-H "Authorization: Bearer $3")
	fi
	curl -sS --fail-with-body --max-time 10 -X POST "${BASE}$1" \
		-H 'Content-Type: application/json' "${auth[@]}" -d "$2"
}

echo "== signing up one patient"
EMAIL="loadtest-$(date +%s)-$$@example.com"
SIGNUP="$(post /api/auth/signup "{\"first_name\":\"Load\",\"last_name\":\"Tester\",\"email\":\"${EMAIL}\",\"password\":\"${PASSWORD}\"}")"
TOKEN="$(printf '%s' "${SIGNUP}" | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')"
if [ -z "${TOKEN}" ]; then
	echo "no access token in the sign-up answer: ${SIGNUP}" >&2
	exit 1
fi

echo "== creating 20 records"
TREATED="$(date -u -d '+30 days' +%F)" # must be after today (UTC)
for i in $(seq 20); do
	post /api/medical-records "{\"patient_name\":\"Load Tester\",\"date_of_birth\":\"1984-06-02\",\"diagnosis\":\"Check-up ${i}\",\"treatment\":\"Routine follow-up; no medication.\",\"date_of_treatment\":\"${TREATED}\",\"doctor\":\"Dr. Lindqvist\"}" "${TOKEN}" >/dev/null
done
COUNT="$(curl -sS --fail-with-body --max-time 10 -H "Authorization: Bearer ${TOKEN}" "${BASE}/api/medical-records?page_size=20" | sed -n 's/^{"count":\([0-9]*\).*/\1/p')"
echo "records visible to the patient: ${COUNT}"
if [ "${COUNT}" != "20" ]; then
	echo "expected 20 records" >&2
	exit 1
fi

# The run is bounded: wrk stops after DURATION; timeout catches a hang.
run_wrk() {
	timeout "$((DURATION + 30))" wrk "$@"
}

echo "== warm-up (2 s, not reported)"
timeout 30 wrk -t"${THREADS}" -c"${CONNECTIONS}" -d2s -H "Authorization: Bearer ${TOKEN}" \
	"${BASE}/api/medical-records?page_size=20" >/dev/null

# wants ENDPOINT: whether ENDPOINTS names it.
wants() {
	case " ${ENDPOINTS} " in *" $1 "*) return 0 ;; *) return 1 ;; esac
}

if wants list; then
	echo
	echo "== wrk -t${THREADS} -c${CONNECTIONS} -d${DURATION}s --latency GET /api/medical-records?page_size=20 (authenticated)"
	run_wrk -t"${THREADS}" -c"${CONNECTIONS}" -d"${DURATION}s" --latency \
		-H "Authorization: Bearer ${TOKEN}" "${BASE}/api/medical-records?page_size=20"
fi

if wants search; then
	echo
	echo "== wrk -t${THREADS} -c${CONNECTIONS} -d${DURATION}s --latency GET /api/medical-records?page_size=20&search=check (authenticated)"
	run_wrk -t"${THREADS}" -c"${CONNECTIONS}" -d"${DURATION}s" --latency \
		-H "Authorization: Bearer ${TOKEN}" "${BASE}/api/medical-records?page_size=20&search=check"
fi

if wants healthz; then
	echo
	echo "== wrk -t${THREADS} -c${CONNECTIONS} -d${DURATION}s --latency GET /healthz"
	run_wrk -t"${THREADS}" -c"${CONNECTIONS}" -d"${DURATION}s" --latency "${BASE}/healthz"
fi

if wants create; then
	# Every request POSTs the same record (as the patient); wrk counts a
	# non-2xx answer, so a create that fails shows in its summary.
	cat >"${WORK}/create.lua" <<LUA
wrk.method = "POST"
wrk.body = '{"patient_name":"Load Tester","date_of_birth":"1984-06-02","diagnosis":"Seasonal allergic rhinitis","treatment":"Antihistamines daily through the pollen season; review in spring.","date_of_treatment":"${TREATED}","doctor":"Dr. Lindqvist"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer ${TOKEN}"
LUA
	echo
	echo "== wrk -t${THREADS} -c${CONNECTIONS} -d${DURATION}s --latency POST /api/medical-records (authenticated, synchronous=FULL)"
	run_wrk -t"${THREADS}" -c"${CONNECTIONS}" -d"${DURATION}s" --latency -s "${WORK}/create.lua" "${BASE}/api/medical-records"
	CREATED="$(curl -sS --fail-with-body --max-time 10 -H "Authorization: Bearer ${TOKEN}" "${BASE}/api/medical-records?page_size=1" | sed -n 's/^{"count":\([0-9]*\).*/\1/p')"
	echo "records visible to the patient after the creates: ${CREATED}"
fi

echo
echo "== server log: $(wc -l <"${WORK}/server.log") lines; errors: $(grep -c 'level=ERROR' "${WORK}/server.log" || true)"
