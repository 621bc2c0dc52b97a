# shellcheck shell=bash
# systemd_box.sh: a throwaway real systemd for integration tests, on machines whose PID 1
# is not systemd (or is, without touching it). Source it from a bash test:
#
#   source "$FLEET_SOURCE_DIR/tests/integration/lib/systemd_box.sh"
#   sdbox_require            # exit 77 (skipped) unless root, systemd-nspawn and overlayfs
#   sdbox_boot               # boots; an EXIT trap tears it down whatever happens
#   sdbox_run systemctl start foo.service
#   sdbox_write /etc/systemd/system/foo.service <<<"[Service]..."
#   sdbox_add_user hermes; sdbox_linger hermes; sdbox_user_systemctl hermes start foo.service
#
# The guest boots with systemd-nspawn on an overlay of this machine's / (writes go to a
# scratch upper layer on a tmpfs and vanish at teardown), with its own PID, mount,
# network (loopback only) and IPC namespaces. Host files are visible at the same paths,
# except /tmp (the guest gets an empty tmpfs): stage files under /var/tmp or write them
# inside with sdbox_write. Commands run inside through nsenter in a session of their own,
# so a stray `kill 0` inside cannot reach the test runner. A test that needs a trap of its
# own must call sdbox_teardown from it (it is idempotent).
# Needs: root, systemd-nspawn (Debian package systemd-container), overlayfs, setpriv.

SDBOX_DIR=""
SDBOX_NSPAWN_PID=""
SDBOX_PID1=""

sdbox_skip() {
  echo "SKIP: $*"
  exit 77
}

sdbox_require() {
  [ "$(id -u)" = 0 ] || sdbox_skip "needs root (boots systemd in a container)"
  command -v systemd-nspawn >/dev/null || sdbox_skip "needs systemd-nspawn (apt-get install systemd-container)"
  command -v setpriv >/dev/null || sdbox_skip "needs setpriv (util-linux)"
  command -v nsenter >/dev/null || sdbox_skip "needs nsenter (util-linux)"
  [ -x /lib/systemd/systemd ] || sdbox_skip "needs systemd installed (/lib/systemd/systemd)"
  grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null ||
    sdbox_skip "needs overlayfs"
  # nspawn needs the cgroup hierarchy; a chroot (such as a fresh-machine trial) may show an
  # empty /sys/fs/cgroup. Mount the unified hierarchy there; on a normal host it is
  # already mounted and this does nothing.
  if ! mountpoint -q /sys/fs/cgroup; then
    mount -t cgroup2 cgroup2 /sys/fs/cgroup ||
      { echo "FAIL: /sys/fs/cgroup is not mounted and cgroup2 cannot be mounted there"; exit 1; }
    echo "sdbox: mounted cgroup2 on /sys/fs/cgroup (it was not mounted)"
  fi
}

sdbox_teardown() {
  local pid=$SDBOX_NSPAWN_PID
  SDBOX_NSPAWN_PID=""
  if [ -n "$pid" ]; then
    kill "$pid" 2>/dev/null || true # nspawn turns SIGTERM into a clean guest shutdown
    local _
    for _ in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  if [ -n "$SDBOX_DIR" ]; then
    umount "$SDBOX_DIR/root" 2>/dev/null || umount -l "$SDBOX_DIR/root" 2>/dev/null || true
    umount "$SDBOX_DIR/rw" 2>/dev/null || umount -l "$SDBOX_DIR/rw" 2>/dev/null || true
    rm -rf "$SDBOX_DIR"
    SDBOX_DIR=""
  fi
  SDBOX_PID1=""
}

# Boots the guest and waits (up to 30 s) until its systemd says running or degraded.
sdbox_boot() {
  SDBOX_DIR=$(mktemp -d /var/tmp/fleet-sdbox.XXXXXX)
  trap sdbox_teardown EXIT
  trap 'exit 130' INT TERM
  # The writable layer lives on a tmpfs of its own: overlayfs refuses an upper directory
  # that is itself on overlayfs (as /var/tmp is inside a container or a chroot on one).
  mkdir -p "$SDBOX_DIR/rw" "$SDBOX_DIR/root"
  mount -t tmpfs -o size=2g,mode=0755 sdbox-rw "$SDBOX_DIR/rw" ||
    { echo "sdbox: cannot mount a tmpfs for the writable layer" >&2; return 1; }
  mkdir -p "$SDBOX_DIR/rw/upper" "$SDBOX_DIR/rw/work"
  mount -t overlay overlay \
    -o "lowerdir=/,upperdir=$SDBOX_DIR/rw/upper,workdir=$SDBOX_DIR/rw/work" "$SDBOX_DIR/root" ||
    { echo "sdbox: cannot mount the overlay" >&2; return 1; }
  # --register=no --keep-unit: no host systemd/machined needed. pdeathsig: if the test
  # dies without its trap, nspawn still shuts the guest down. The unified cgroup hierarchy
  # is forced: on a host with a hybrid cgroup v1 layout nspawn's own detection fails
  # ("Failed to attach ... to compat systemd cgroup") and the guest never boots.
  SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1 setpriv --pdeathsig TERM systemd-nspawn --quiet --register=no --keep-unit \
    --private-network --link-journal=no --console=pipe -D "$SDBOX_DIR/root" --boot \
    </dev/null >"$SDBOX_DIR/boot.log" 2>&1 &
  SDBOX_NSPAWN_PID=$!
  local _ state=""
  for _ in $(seq 1 300); do
    if [ -z "$SDBOX_PID1" ]; then
      SDBOX_PID1=$(pgrep -P "$SDBOX_NSPAWN_PID" -x systemd || true)
    fi
    if [ -n "$SDBOX_PID1" ]; then
      state=$(nsenter -t "$SDBOX_PID1" -a systemctl is-system-running 2>/dev/null || true)
      case "$state" in running | degraded) return 0 ;; esac
    fi
    kill -0 "$SDBOX_NSPAWN_PID" 2>/dev/null || break
    sleep 0.1
  done
  echo "sdbox: systemd did not come up (state '${state}'); boot log:" >&2
  tail -n 40 "$SDBOX_DIR/boot.log" >&2
  return 1
}

# Runs a command inside the guest (all its namespaces), in a session of its own.
sdbox_run() {
  [ -n "$SDBOX_PID1" ] || { echo "sdbox: not booted" >&2; return 125; }
  setsid --wait nsenter -t "$SDBOX_PID1" -a "$@"
}

# sdbox_write PATH [USER] < content: writes a file inside the guest, parents created, as
# root or as USER (so a user's own files and folders belong to that user).
sdbox_write() {
  local path=$1 user=${2:-}
  # shellcheck disable=SC2016 # expanded by the inner shell
  local script='mkdir -p "$(dirname "$1")" && cat >"$1"'
  if [ -n "$user" ]; then
    sdbox_run runuser -u "$user" -- sh -c "$script" sdbox-write "$path"
  else
    sdbox_run sh -c "$script" sdbox-write "$path"
  fi
}

# sdbox_add_user USER: a user with a home (write its ~/.config/systemd/user units now, and
# its manager loads them when it starts, no daemon-reload needed).
sdbox_add_user() {
  sdbox_run useradd -m -s /bin/bash "$1"
}

# sdbox_linger USER: enables lingering, so the user's manager runs without a login, and
# waits (up to 10 s) until it answers.
sdbox_linger() {
  local user=$1 state="" _
  sdbox_run loginctl enable-linger "$user" || return 1
  for _ in $(seq 1 100); do
    state=$(sdbox_user_systemctl "$user" is-system-running 2>/dev/null || true)
    case "$state" in running | degraded) return 0 ;; esac
    sleep 0.1
  done
  echo "sdbox: the user manager of $user did not come up (state '${state}')" >&2
  return 1
}

# sdbox_user_systemctl USER ARGS...: `systemctl --user` as that user inside the guest.
sdbox_user_systemctl() {
  local user=$1
  shift
  # shellcheck disable=SC2016 # expanded by the inner shell
  sdbox_run runuser -u "$user" -- \
    sh -c 'XDG_RUNTIME_DIR=/run/user/$(id -u) exec systemctl --user "$@"' sdbox-systemctl "$@"
}
