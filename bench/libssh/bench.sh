#!/bin/bash
# bench.sh: Debian's libssh as shipped and with proposal.patch, each linked into a build of this
# tree, in one run of bench/relay/bench.sh (the patched one is its reference build, "ref").
# Not part of scripts/test.sh. Fetches the source with apt (signed lists, kept in a private
# directory: the machine's apt configuration is not touched); needs dpkg-dev and zlib1g-dev
# besides scripts/lib/setup.sh's packages. BENCH_LIBSSH_DIR (default /tmp/gw-libssh-bench) keeps
# sources and builds between runs; BENCH_PARTS and the other knobs go to bench/relay/bench.sh.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
work=${BENCH_LIBSSH_DIR:-/tmp/gw-libssh-bench}
for tool in dpkg-source cmake ninja; do
	command -v "$tool" >/dev/null || { echo "bench/libssh: needs $tool (dpkg-dev, cmake, ninja-build)" >&2; exit 1; }
done
mkdir -p "$work/apt/lists/partial" "$work/apt/cache/archives/partial"
echo 'deb-src http://deb.debian.org/debian bookworm main' >"$work/apt/sources.list"
apt=(apt-get -q -o Dir::Etc::SourceList="$work/apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
	-o Dir::State::Lists="$work/apt/lists" -o Dir::Cache="$work/apt/cache")
"${apt[@]}" update >/dev/null

# libssh_build NAME [PATCH]: Debian's libssh source (its own patches applied) in $work/NAME,
# with PATCH on top, built the way Debian builds it (Release, OpenSSL); prints the library's
# directory.
libssh_build() {
	local d=$work/$1 tree
	if [[ ! -f $d/build/lib/libssh.so.4 ]]; then
		rm -rf "$d"
		mkdir -p "$d"
		(cd "$d" && "${apt[@]}" source libssh/bookworm >/dev/null 2>&1)
		tree=$(echo "$d"/libssh-*/)
		[[ -z ${2:-} ]] || patch -d "$tree" -p1 -s <"$2"
		cmake -S "$tree" -B "$d/build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DWITH_GCRYPT=OFF \
			-DWITH_EXAMPLES=OFF -DUNIT_TESTING=OFF >/dev/null
		cmake --build "$d/build" -j2 >/dev/null
	fi
	echo "$d/build/lib"
}

# gateway_build NAME LIBDIR: this tree's daemon, front and gatewayctl, run against LIBDIR's libssh.
gateway_build() {
	cmake -S "$src" -B "$work/gw-$1" -G Ninja -DCMAKE_BUILD_RPATH="$2" >/dev/null
	cmake --build "$work/gw-$1" -j2 --target gatewayd gatewayd-front gatewayctl >/dev/null
	readelf -d "$work/gw-$1/front/gatewayd-front" | grep -q "$2" ||
		{ echo "bench/libssh: the front is not linked to $2" >&2; exit 1; }
}

gateway_build stock "$(libssh_build stock)"
gateway_build proposal "$(libssh_build proposal "$here/proposal.patch")"
echo "gatewayd: Debian's libssh built here as shipped; ref: the same with bench/libssh/proposal.patch"
GW_BUILD=$work/gw-stock BENCH_REF_BUILD=$work/gw-proposal exec bash "$src/bench/relay/bench.sh"
