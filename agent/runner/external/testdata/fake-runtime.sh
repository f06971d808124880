#!/bin/sh
# A minimal external runtime for tests: it reads the spec line, reports
# ready, and answers each {"run": N} with N latency lines. MODE selects a
# failure: "toolarge" rejects the spec, "banner" prints a non-JSON line.
read -r spec
case "$MODE" in
toolarge) echo '{"error": "model needs 9 GB", "code": "too_large"}'; exit 0 ;;
banner) echo 'Loading runtime v1.2'; exit 0 ;;
esac
echo "spec received: $spec" >&2
echo '{"ready": true, "memory_bytes": 4096}'
while read -r line; do
	n=$(echo "$line" | sed 's/[^0-9]//g')
	i=0
	while [ "$i" -lt "$n" ]; do
		echo '{"latency_s": 0.002}'
		i=$((i + 1))
	done
done
