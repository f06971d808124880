#!/bin/sh
# Build the agent for each release target with CGO disabled and print the
# binary sizes, stripped (-s -w, as released) and unstripped.
# Usage: installers/binary-sizes.sh [OUTDIR]   (run from the repository root)
set -eu
out=${1:-$(mktemp -d)}
printf '| target | stripped (MiB) | unstripped (MiB) |\n| --- | --- | --- |\n'
for target in linux/amd64 linux/arm64 linux/arm/7 darwin/arm64 windows/amd64; do
	os=${target%%/*}
	rest=${target#*/}
	arch=${rest%%/*}
	arm=
	[ "$arch" = arm ] && arm=${rest#*/}
	ext=
	[ "$os" = windows ] && ext=.exe
	for kind in stripped unstripped; do
		flags=
		[ "$kind" = stripped ] && flags='-s -w'
		bin="$out/edgetran-agent-$os-$arch$arm-$kind$ext"
		CGO_ENABLED=0 GOOS=$os GOARCH=$arch GOARM=$arm \
			go build -trimpath -ldflags="$flags" -o "$bin" ./agent/cmd/edgetran-agent
	done
	s=$(wc -c <"$out/edgetran-agent-$os-$arch$arm-stripped$ext")
	u=$(wc -c <"$out/edgetran-agent-$os-$arch$arm-unstripped$ext")
	printf '| %s | %s | %s |\n' "$target" \
		"$(awk "BEGIN{printf \"%.1f\", $s/1048576}")" "$(awk "BEGIN{printf \"%.1f\", $u/1048576}")"
done
