# Common settings for the project's scripts.  Sourced, not run.
# shellcheck shell=bash

set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export TOP

# Unpacked trees, builds, the test guest and VM instances live outside the
# clone, at a fixed path: compiler command lines then stay the same from one
# clone to the next (CI clones elsewhere), so builds stay incremental and
# ccache hits. $TOP/_work is a (git-ignored) link to it.
WORK=${LIFECYCLE_WORK:-/var/lib/libvirt-lifecycle}
mkdir -p "$WORK"
# (a dangling link is left alone: tools/deb's chroot sees the clone with
# another $WORK and must not repoint it)
[ -e "$TOP/_work" ] || [ -L "$TOP/_work" ] || ln -sfn "$WORK" "$TOP/_work"
# Downloads, ccache and the test guest outlive a clone: a fresh clone (CI)
# on the same machine reuses them.
CACHE=${LIFECYCLE_CACHE:-/var/cache/libvirt-lifecycle}
export WORK CACHE

LIBVIRT_VERSION=11.3.0
LIBVIRT_TARBALL_NAME=libvirt_${LIBVIRT_VERSION}.orig.tar.xz
LIBVIRT_TARBALL_SHA256=6bcb0c42c4580436fea262ced56f68a6afe20f7390b1bea2116718cc034a0283
LIBVIRT_DEBIAN_SUITE=trixie

# Trees: a pristine one and one with patches/series applied as commits.
# Each tree is laid out as DIR/src + DIR/build so that the compiler command
# lines are identical between trees and ccache shares objects among them.
PRISTINE_SRC=$WORK/pristine/src
PATCHED_SRC=$WORK/patched/src
PRISTINE_BUILD=$WORK/pristine/build
PATCHED_BUILD=$WORK/patched/build
# The series without the patches of patches/standalone (tools/bench --stop
# measures what those add): built only by tools/bench --stop.
NOPIDFD_SRC=$WORK/nopidfd/src
NOPIDFD_BUILD=$WORK/nopidfd/build

# meson must run with Debian's python (pyenv's may lack modules).
export PATH=/usr/bin:/usr/sbin:/bin:/sbin:$PATH
export CCACHE_DIR=${CCACHE_DIR:-$CACHE/ccache}
export CCACHE_BASEDIR=$WORK CCACHE_NOHASHDIR=1 CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-5G}

msg() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# take_source_flags "$@": the base libvirt to use instead of the pinned
# tarball from Debian's archive, for every command that builds it:
#   --tarball FILE      a libvirt 11.3.0 release tarball (= LIBVIRT_TARBALL=FILE)
#   --libvirt-src DIR   an unpacked pristine libvirt 11.3.0 tree (= LIBVIRT_SRC=DIR)
# Exports the variables (scripts run from here see them) and leaves the
# other arguments in the array ARGS.
take_source_flags() {
    ARGS=()
    while [ $# -gt 0 ]; do
        case "$1" in
            --tarball|--libvirt-src)
                [ $# -ge 2 ] || die "$1 needs an argument"
                local path
                path=$(realpath -e -- "$2" 2>/dev/null) || die "$1 $2: no such file or directory"
                if [ "$1" = --tarball ]; then
                    [ -f "$path" ] || die "--tarball $2: not a file"
                    LIBVIRT_TARBALL=$path; export LIBVIRT_TARBALL
                else
                    [ -f "$path/meson.build" ] || die "--libvirt-src $2: not a libvirt source tree (no meson.build)"
                    LIBVIRT_SRC=$path; export LIBVIRT_SRC
                fi
                shift 2;;
            *) ARGS+=("$1"); shift;;
        esac
    done
    if [ -n "${LIBVIRT_TARBALL:-}" ] && [ -n "${LIBVIRT_SRC:-}" ]; then
        die "give either a tarball or a source tree, not both"
    fi
    return 0
}

# Git identity used for the commits made in the unpacked libvirt trees.
git_id() {
    git -C "$1" config user.name >/dev/null 2>&1 || git -C "$1" config user.name "libvirt lifecycle series"
    git -C "$1" config user.email >/dev/null 2>&1 || git -C "$1" config user.email "lifecycle@localhost"
}

# Install the Debian packages given as arguments that are not yet installed.
apt_need() {
    local missing=() p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    msg "installing: ${missing[*]}"
    if [ ! -f "$WORK/.apt-updated" ] || [ -n "$(find "$WORK/.apt-updated" -mmin +720 2>/dev/null)" ]; then
        apt-get update -qq
        mkdir -p "$WORK" && touch "$WORK/.apt-updated"
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# apt_src SUITE ARGS...: run apt-get with a private deb-src list for
# Debian SUITE and private lists/cache dirs under $CACHE/apt/SUITE, so the
# host's apt configuration (/etc/apt, /var/lib/apt/lists) stays as it was.
# "apt_src trixie update" first, then e.g. "apt_src trixie source
# --download-only libvirt=VER" or "apt_src trixie showsrc libvirt".
apt_src() {
    local suite=$1 dir=$CACHE/apt/$1
    shift
    mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial" "$dir/parts"
    [ -f "$dir/sources.list" ] ||
        echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian $suite main" \
            > "$dir/sources.list"
    local opts=(-o "Dir::Etc::sourcelist=$dir/sources.list" -o "Dir::Etc::sourceparts=$dir/parts"
                -o "Dir::State::Lists=$dir/lists" -o "Dir::Cache=$dir/cache"
                -o "Dir::Cache::archives=$dir/cache/archives" -o APT::Get::List-Cleanup=0)
    case "$1" in
        showsrc) apt-cache "${opts[@]}" "$@";;
        *) apt-get -qq "${opts[@]}" "$@";;
    esac
}

# Our first fetch-libvirt wrote a deb-src list into the host's apt
# configuration; take it back out (it was ours, nothing else uses it).
apt_src_forget_host_list() {
    local old=/etc/apt/sources.list.d/libvirt-lifecycle-$LIBVIRT_DEBIAN_SUITE-src.sources
    if [ -f "$old" ] && grep -q "^Suites: $LIBVIRT_DEBIAN_SUITE" "$old"; then
        msg "removing $old (the private list in $CACHE/apt replaces it)"
        rm -f "$old"
    fi
    return 0
}

# guest_domain_xml UUID KERNEL INITRD [LOADER]: the test guest's domain XML
# (tools/vm-harness, tools/deb-harness), named $NAME, serial log $SERIAL,
# agent and control channels on the unix sockets $AGENT and $CONTROL; the
# kernel command line from $WORK/guest/cmdline; LOADER: a ROM instead of
# SeaBIOS. UUID may be empty (a new definition).
guest_domain_xml() {
    local uuid= loader= cmdline
    cmdline=$(cat "$WORK/guest/cmdline")
    [ -n "${1:-}" ] && uuid="
  <uuid>$1</uuid>"
    [ -n "${4:-}" ] && loader="
    <loader type='rom'>$4</loader>"
    cat <<EOF
<domain type='qemu'>
  <name>$NAME</name>$uuid
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='q35'>hvm</type>$loader
    <kernel>$2</kernel>
    <initrd>$3</initrd>
    <cmdline>$cmdline</cmdline>
  </os>
  <features>
    <acpi/>
  </features>
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <controller type='usb' model='none'/>
    <serial type='file'>
      <source path='$SERIAL' append='on'/>
      <target port='0'/>
    </serial>
    <channel type='unix'>
      <source mode='bind' path='$AGENT'/>
      <target type='virtio' name='org.qemu.guest_agent.0'/>
    </channel>
    <channel type='unix'>
      <source mode='bind' path='$CONTROL'/>
      <target type='virtio' name='org.lifecycle.control.0'/>
    </channel>
    <memballoon model='none'/>
  </devices>
</domain>
EOF
}

# libvirt configuration of every build (tools/build, tools/sanitize):
# QEMU driver, remote driver, daemons, virsh, test driver, unit tests; the rest off.
MESON_OPTS=(
    --buildtype=debugoptimized
    -Dsystem=true
    --auto-features=disabled
    -Ddocs=disabled -Dtests=enabled -Dexpensive_tests=disabled
    -Ddriver_qemu=enabled -Ddriver_remote=enabled -Ddriver_libvirtd=enabled
    -Ddriver_test=enabled
    -Djson_c=enabled -Dlibnl=enabled -Dreadline=enabled
    -Dqemu_user=root -Dqemu_group=root
    -Dgit_werror=disabled -Dnls=disabled
    -Dno_git=true  # tools/prepare checks out subprojects/keycodemapdb itself
)

BUILD_DEPS=(meson ninja-build gcc pkg-config ccache git xz-utils ca-certificates
            libglib2.0-dev libxml2-dev libxml2-utils xsltproc libgnutls28-dev
            libtirpc-dev libjson-c-dev libnl-3-dev libnl-route-3-dev
            python3-docutils augeas-tools libreadline-dev)
RUNTIME_DEPS=(qemu-system-x86 qemu-utils util-linux jq socat)
