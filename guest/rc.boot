#!/bin/sh
# sysinit of the lifecycle test guest: mounts, modules, boot counter, port links.
export PATH=/sbin:/usr/sbin:/bin:/usr/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts /run /tmp /var/log /var/run
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp

# Modules in dependency order (written by tools/build-guest).
while read -r m; do
    [ -n "$m" ] && insmod "/lib/modules/$m" 2>/dev/null
done < /etc/modules.order

# Boot counter: one CMOS byte (index given in /etc/lc-cmos, decimal).
# It survives a system reset (QEMU keeps the RTC's CMOS RAM) and is 0 on
# power-on, so the first boot of a QEMU process prints n=1.
reg=$(cat /etc/lc-cmos)
cmos_read() {
    printf "\\$(printf %o "$reg")" | dd of=/dev/port bs=1 seek=112 count=1 2>/dev/null
    dd if=/dev/port bs=1 skip=113 count=1 2>/dev/null | od -An -tu1 | tr -d ' \n'
}
cmos_write() {
    printf "\\$(printf %o "$reg")" | dd of=/dev/port bs=1 seek=112 count=1 2>/dev/null
    printf "\\$(printf %o "$1")" | dd of=/dev/port bs=1 seek=113 count=1 2>/dev/null
}
n=$(cmos_read)
n=$(( ${n:-0} + 1 ))
[ "$n" -gt 255 ] && n=1
cmos_write "$n"
echo "$n" > /run/bootcount
printf "\nLIFECYCLE-BOOT n=%s\n" "$n"

# /dev/virtio-ports/NAME links, as udev would make them.  A port's name
# arrives from the host shortly after the port appears.
mkdir -p /dev/virtio-ports
want=2 i=0
while [ $i -lt 100 ]; do
    have=0
    for f in /sys/class/virtio-ports/*/name; do
        [ -s "$f" ] || continue
        d=${f%/name}; d=${d##*/}
        name=$(cat "$f")
        [ -e "/dev/virtio-ports/$name" ] || ln -s "../$d" "/dev/virtio-ports/$name"
        have=$((have + 1))
    done
    [ $have -ge $want ] && break
    i=$((i + 1))
    sleep 0.1
done
[ $have -ge $want ] || echo "LIFECYCLE-WARN only $have virtio-serial port(s) named"
exit 0
