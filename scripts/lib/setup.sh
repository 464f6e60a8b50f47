# setup.sh: sourced by scripts/demo.sh and scripts/test.sh: the Debian 12 packages the project
# needs (installed when missing, apt-get update first), the system user of the vendor-facing
# processes (gatewayd-front, as systemd/gatewayd.sysusers makes it), the evidence bundle's web
# player (npm, web/) and the CMake build.
# Changes nothing else.

GW_PACKAGES=(
	# build
	cmake ninja-build gcc libc6-dev pkg-config
	libssh-dev libssl-dev libconfig-dev libjansson-dev check libsystemd-dev libvterm-dev
	libpam0g-dev libpam-wrapper libseccomp-dev
	# sealed recordings kept compressed (recording_compression = "zstd")
	libzstd-dev zstd
	# the shared store (store = { kind = "postgresql"; }): libpq, and the server tests start
	libpq-dev postgresql-15 postgresql-client-15
	# demo and tests: real clients and servers, recording players, terminal drivers
	openssh-client openssh-server dropbear-bin putty-tools asciinema tmux python3 procps
	util-linux coreutils openssl vim-tiny ssh-audit iproute2 jq
	# hostile clients the integration tests script (tests/lib/hostile.py)
	python3-paramiko
	# second factor: the PAM TOTP module and its code generator
	libpam-oath oathtool
	# fuzzing: libFuzzer and the sanitizer runtimes; lld links the sanitizer build
	clang-14 libclang-rt-14-dev llvm-14 lld-14 clang-format
	# the unit file check (systemd-analyze, systemd-sysusers, systemd-tmpfiles)
	systemd
	# scripts/valgrind.sh
	valgrind
	# the privilege separation tests: a core (gcore) of, and calls made inside, a live front
	gdb
	# the evidence bundle: its archive (evidence export --zip), and its browser test
	zip unzip chromium
	# forwarding (issue 18): a Modbus/TCP PLC and client, and Wireshark's dissectors
	python3-pymodbus python3-serial python3-serial-asyncio tshark
)

gw_say() { printf '==> %s\n' "$*"; }

# gw_install_packages: installs what dpkg does not report as installed.
gw_install_packages() {
	local missing=() p sudo=()
	for p in "${GW_PACKAGES[@]}"; do
		dpkg -s "$p" 2>/dev/null | grep -q '^Status: install ok installed' || missing+=("$p")
	done
	((${#missing[@]} == 0)) && return 0
	if [[ $(id -u) != 0 ]]; then
		command -v sudo >/dev/null || { echo "missing packages (${missing[*]}) and not root" >&2; return 1; }
		sudo=(sudo)
	fi
	gw_say "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	"${sudo[@]}" apt-get update -qq </dev/null &&
		"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null >/dev/null
}

# gw_prepare_machine: what scripts/demo.sh and scripts/test.sh need before the build: the
# packages and the front's user.
gw_prepare_machine() {
	gw_install_packages && gw_create_front_user && gw_install_player
}

# gw_install_player: the asciinema web player the evidence bundle copies in (gatewayctl evidence
# export), the version pinned by web/package-lock.json, into web/node_modules. npm comes with
# Debian's nodejs packages unless a node with its own npm is there already.
gw_install_player() {
	local web=$GW_ROOT/web sudo=()
	[[ -f $web/node_modules/.package-lock.json && $web/node_modules/.package-lock.json -nt $web/package-lock.json ]] &&
		return 0
	if ! command -v npm >/dev/null; then
		[[ $(id -u) == 0 ]] || sudo=(sudo)
		gw_say "installing nodejs npm"
		DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends \
			nodejs npm </dev/null >/dev/null || return 1
	fi
	gw_say "installing the web player (npm ci in $web)"
	(cd "$web" && npm ci --no-audit --no-fund --loglevel=error </dev/null >/dev/null)
}

# gw_create_front_user: the unprivileged user gatewayd starts each connection's vendor-facing
# process as (front_user, default gatewayd-front), created as systemd-sysusers would create it
# from systemd/gatewayd.sysusers: a system user with its own group, no home, no shell.
GW_FRONT_USER=gatewayd-front
gw_create_front_user() {
	local sudo=()
	getent passwd "$GW_FRONT_USER" >/dev/null && return 0
	if [[ $(id -u) != 0 ]]; then
		command -v sudo >/dev/null || { echo "no user $GW_FRONT_USER and not root" >&2; return 1; }
		sudo=(sudo)
	fi
	gw_say "creating the system user $GW_FRONT_USER"
	"${sudo[@]}" useradd --system --no-create-home --home-dir / --shell /usr/sbin/nologin \
		--user-group --comment "gatewayd vendor-facing processes" "$GW_FRONT_USER"
}

# gw_build DIR [CMAKE-OPTIONS...]: configures (once) and builds into DIR, two jobs at most.
gw_build() {
	local dir=$1
	shift
	gw_say "building $dir $*"
	cmake -S "$GW_ROOT" -B "$dir" -G Ninja "$@" >/dev/null &&
		cmake --build "$dir" -j "${GW_JOBS:-2}"
}

GW_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
