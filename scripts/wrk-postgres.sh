#!/usr/bin/env bash
# wrk against a real `anavara serve` on PostgreSQL (or, for comparison, on
# SQLite), loopback only.
#
#   ANAVARA_TEST_DATABASE=postgres://anavara:anavara@127.0.0.1:5432/anavara?sslmode=disable \
#     scripts/wrk-postgres.sh                  # PostgreSQL, 15 s on 127.0.0.1:18081
#   ENGINE=sqlite scripts/wrk-postgres.sh       # the same run on SQLite in a temp dir
#   PORT=18095 DURATION=30 THREADS=2 CONNECTIONS=16 scripts/wrk-postgres.sh
#
# On PostgreSQL it creates a fresh database (anavara_wrk_<random>) through
# ADMIN_URL (default: ANAVARA_TEST_DATABASE; its role must be allowed to
# create databases), serves it with `anavara serve` (the URL passed in
# ANAVARA_DATABASE, so that the password is not on the command line), and
# drops it on exit. It then does what scripts/loadtest.sh does, so the
# figures compare with its: builds the binary, signs one patient up through
# the API, creates 20 records, warms up for 2 s and runs
# `wrk --latency` against GET /api/medical-records?page_size=20 with the
# patient's bearer token. Needs: go, curl, wrk, and psql for PostgreSQL.
set -euo pipefail

ENGINE="${ENGINE:-postgres}"
case "${ENGINE}" in postgres | sqlite) ;; *) echo "ENGINE is postgres or sqlite" >&2; exit 2 ;; esac
PORT="${PORT:-18081}"
DURATION="${DURATION:-15}"
case "${DURATION}" in *[!0-9]* | "") echo "DURATION is whole seconds, e.g. DURATION=15" >&2; exit 2 ;; esac
THREADS="${THREADS:-2}"
CONNECTIONS="${CONNECTIONS:-16}"
PASSWORD='Vq7!plum-Orbit-42'
BASE="http://127.0.0.1:${PORT}"

cd "$(dirname "$0")/.."

for tool in curl wrk; do
	if ! command -v "${tool}" >/dev/null 2>&1; then
		echo "${tool} is not installed (Debian: apt-get install -y ${tool})" >&2
		exit 1
	fi
done
if [ "${ENGINE}" = postgres ]; then
	ADMIN_URL="${ADMIN_URL:-${ANAVARA_TEST_DATABASE:-}}"
	if [ -z "${ADMIN_URL}" ]; then
		echo "set ADMIN_URL or ANAVARA_TEST_DATABASE to postgres://user:pass@host:port/db?sslmode=… (a role that may create databases)" >&2
		exit 2
	fi
	if ! command -v psql >/dev/null 2>&1; then
		echo "psql is not installed (Debian: apt-get install -y postgresql-client)" >&2
		exit 1
	fi
fi

if curl -s --max-time 2 -o /dev/null "${BASE}/" 2>/dev/null; then
	echo "something already answers on ${BASE}; choose another PORT" >&2
	exit 1
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/anavara-wrk.XXXXXX")"
SERVER_PID=""
DBNAME=""
cleanup() {
	if [ -n "${SERVER_PID}" ] && kill -0 "${SERVER_PID}" 2>/dev/null; then
		kill "${SERVER_PID}" 2>/dev/null || true
		for _ in $(seq 50); do
			kill -0 "${SERVER_PID}" 2>/dev/null || break
			sleep 0.1
		done
		kill -9 "${SERVER_PID}" 2>/dev/null || true
		wait "${SERVER_PID}" 2>/dev/null || true
	fi
	if [ -n "${DBNAME}" ]; then
		psql -q "${ADMIN_URL}" -c "DROP DATABASE IF EXISTS ${DBNAME}" >/dev/null || true
	fi
	rm -rf "${WORK}"
}
trap cleanup EXIT INT TERM

echo "== building"
go build -o "${WORK}/anavara" .

SERVE_ENV=()
if [ "${ENGINE}" = postgres ]; then
	DBNAME="anavara_wrk_$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
	psql -q -v ON_ERROR_STOP=1 "${ADMIN_URL}" -c "CREATE DATABASE ${DBNAME}" >/dev/null
	# The admin URL with the new database's name in place of its own.
	DB_URL="$(printf '%s' "${ADMIN_URL}" | sed -E "s#^(postgres(ql)?://[^/]+)/[^?]*#\1/${DBNAME}#")"
	SERVE_ENV=(ANAVARA_DATABASE="${DB_URL}")
	echo "== PostgreSQL $(psql -Atq "${ADMIN_URL}" -c 'SHOW server_version'), database ${DBNAME}, synchronous_commit=$(psql -Atq "${DB_URL}" -c 'SHOW synchronous_commit')"
fi
SERVE_FLAGS=(--data-dir "${WORK}/data" --http "127.0.0.1:${PORT}" --ssh "")
echo "== starting anavara serve ${SERVE_FLAGS[*]} (engine ${ENGINE})"
env "${SERVE_ENV[@]}" "${WORK}/anavara" serve "${SERVE_FLAGS[@]}" >"${WORK}/server.log" 2>&1 &
SERVER_PID=$!
for i in $(seq 200); do
	if curl -sf --max-time 1 -o /dev/null "${BASE}/healthz"; then
		break
	fi
	if ! kill -0 "${SERVER_PID}" 2>/dev/null || [ "$i" -eq 200 ]; then
		echo "server did not come up:" >&2
		cat "${WORK}/server.log" >&2
		exit 1
	fi
	sleep 0.1
done
grep -o 'database=[^ ]*' "${WORK}/server.log" | head -1 || true

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
EMAIL="wrk-$(date +%s)-$$@example.com"
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

echo "== warm-up (2 s, not reported)"
timeout 30 wrk -t"${THREADS}" -c"${CONNECTIONS}" -d2s -H "Authorization: Bearer ${TOKEN}" \
	"${BASE}/api/medical-records?page_size=20" >/dev/null

echo
echo "== ${ENGINE}: wrk -t${THREADS} -c${CONNECTIONS} -d${DURATION}s --latency GET /api/medical-records?page_size=20 (authenticated)"
timeout "$((DURATION + 30))" wrk -t"${THREADS}" -c"${CONNECTIONS}" -d"${DURATION}s" --latency \
	-H "Authorization: Bearer ${TOKEN}" "${BASE}/api/medical-records?page_size=20"

echo
echo "== server log: $(wc -l <"${WORK}/server.log") lines; errors: $(grep -c 'level=ERROR' "${WORK}/server.log" || true)"
