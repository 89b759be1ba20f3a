#!/bin/busybox sh
# gmem-spec lab guest init (PID 1 of the lab VM's busybox initramfs).
# The host (src/lab/vm.ts) writes /lab/job, which sets LAB_STDIN and the program's argv, and offers three
# virtio serial ports, named so the order of PCI probing does not matter:
#   stdio   the program's stdout (and its stdin when LAB_STDIN=port): a live line channel to the host
#   stderr  the program's stderr
#   status  "start <uptime>" before the program, "exit <code> <uptime>" after it
# Kernel messages and this script's own errors go to the console (ttyS0), which the host keeps as the
# kernel log. `poweroff -f` ends QEMU (-no-reboot), whatever the program did.
/bin/busybox mkdir -p /proc /sys /dev /tmp /run /bin /sbin /usr/bin /usr/sbin
/bin/busybox --install -s
export PATH=/lab:/bin:/sbin:/usr/bin:/usr/sbin HOME=/root
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
mkdir -p /dev/hugepages /root && mount -t hugetlbfs hugetlbfs /dev/hugepages

mkdir -p /dev/lab
for p in /sys/class/virtio-ports/*; do
  [ -r "$p/name" ] && ln -sf "/dev/${p##*/}" "/dev/lab/$(cat "$p/name")"
done
if [ ! -e /dev/lab/status ] || [ ! -e /dev/lab/stdio ] || [ ! -e /dev/lab/stderr ]; then
  echo "lab-init: virtio ports missing (have: $(ls /dev/lab))"
  poweroff -f
fi

uptime_s() { cut -d' ' -f1 /proc/uptime; }
echo "start $(uptime_s)" > /dev/lab/status
cd /lab
. /lab/job
# One open of the stdio port serves as stdin and stdout: a virtio port can be opened only once at a time.
exec 3<>/dev/lab/stdio
if [ "$LAB_STDIN" = port ]; then
  "$@" <&3 >&3 2>/dev/lab/stderr 3>&-
else
  "$@" </dev/null >&3 2>/dev/lab/stderr 3>&-
fi
code=$?
exec 3>&-
echo "exit $code $(uptime_s)" > /dev/lab/status
poweroff -f
