#!/usr/bin/env bash
# Run a subset of the integration tests under Debian's stock 6.1 kernel:
# qemu-system-x86_64 -accel tcg (KVM does not boot a stock kernel on this
# machine kind), the host root shared read-only over 9p, tmpfs on /tmp, a
# second 9p share for the results. Debian's 6.1 has 9p and virtio as
# modules its initrd lacks, so a busybox initramfs insmods them
# (shared/notes/kernel-features.md §7). Prints the guest's test output,
# exits with the guest's test status.
#
#   scripts/vmtest.sh [PATTERN...]   (tests/run.py's patterns; default below)
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

tests=("$@")
[ ${#tests[@]} -gt 0 ] ||
	tests=('^leaky_cmd$' '^cfi_stack_nofp$' '^threads_unjoined$' '^threads_stuck$' '^go_chansend$'
	       '^system_wide$' '^fds_leaks$' '^kernel_files$' '^production_cost$')

kernel=$(ls /boot/vmlinuz-6.1.*-amd64 2>/dev/null | sort -V | tail -1 || true)
if [ -z "$kernel" ]; then
	echo "vmtest: no /boot/vmlinuz-6.1.*-amd64 (scripts/setup.sh installs linux-image-amd64)" >&2
	exit 1
fi
kver=${kernel#/boot/vmlinuz-}
mods=/lib/modules/$kver/kernel
work=$(mktemp -d /tmp/leaktop-vm.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/root/bin" "$work/root/mods" "$work/out"

# Dependency order, from `modinfo -F depends`.
order=(drivers/virtio/virtio_ring.ko drivers/virtio/virtio.ko
	drivers/virtio/virtio_pci_legacy_dev.ko drivers/virtio/virtio_pci_modern_dev.ko
	drivers/virtio/virtio_pci.ko fs/netfs/netfs.ko fs/fscache/fscache.ko
	net/9p/9pnet.ko net/9p/9pnet_virtio.ko fs/9p/9p.ko)
for m in "${order[@]}"; do
	cp "$mods/$m" "$work/root/mods/"
done
cp /bin/busybox "$work/root/bin/busybox"
for m in "${order[@]}"; do basename "$m"; done > "$work/root/mods/order"

# The guest runs this in the host root (chroot), as root, then powers off.
cat > "$work/out/run.sh" <<EOF
cd "$repo" || exit 1
export PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/tmp
echo "kernel \$(uname -r)"
./leaktop check
/usr/bin/python3 tests/run.py $(printf "'%s' " "${tests[@]}")
EOF

cat > "$work/root/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox mkdir -p /proc /sys /dev /newroot
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sys /sys
/bin/busybox mount -t devtmpfs dev /dev
# Loopback up: the fd tests connect to their own listener.
/bin/busybox ip link set lo up || /bin/busybox ifconfig lo 127.0.0.1 up
while read m; do /bin/busybox insmod /mods/$m || echo "insmod $m failed"; done < /mods/order
/bin/busybox mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=524288 hostroot /newroot
for d in proc sys dev; do /bin/busybox mount --move /$d /newroot/$d; done
/bin/busybox mount -t tmpfs tmp /newroot/tmp
/bin/busybox mount -t tmpfs run /newroot/run
/bin/busybox mkdir -p /newroot/tmp/vmout
# The repository on its own share: a clone under /tmp is hidden by the tmpfs.
repo=$(/bin/busybox cat /repo_path)
/bin/busybox mkdir -p "/newroot$repo"
/bin/busybox mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=524288 repo "/newroot$repo"
/bin/busybox mount -t 9p -o trans=virtio,version=9p2000.L,msize=524288 vmout /newroot/tmp/vmout
/bin/busybox mount -t tracefs nodev /newroot/sys/kernel/tracing
/bin/busybox mount -t debugfs nodev /newroot/sys/kernel/debug
/bin/busybox mount -t bpf bpf /newroot/sys/fs/bpf
/bin/busybox mkdir -p /newroot/dev/shm /newroot/dev/pts
/bin/busybox mount -t tmpfs shm /newroot/dev/shm
/bin/busybox chroot /newroot /bin/sh /tmp/vmout/run.sh > /newroot/tmp/vmout/log 2>&1
echo $? > /newroot/tmp/vmout/rc
/bin/busybox sync
/bin/busybox poweroff -f
EOF
chmod +x "$work/root/init"
echo "$repo" > "$work/root/repo_path"
(cd "$work/root" && find . | cpio -o -H newc --quiet) > "$work/initrd"

echo "vmtest: booting $kver under TCG: ${tests[*]}"
timeout 300 qemu-system-x86_64 -accel tcg -cpu max -smp 1 -m 3G \
	-kernel "$kernel" -initrd "$work/initrd" \
	-append "console=ttyS0 panic=-1 quiet" \
	-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on \
	-virtfs local,path="$work/out",mount_tag=vmout,security_model=none \
	-virtfs local,path="$repo",mount_tag=repo,security_model=none,readonly=on \
	-nographic -no-reboot > "$work/console" 2>&1 || true
if [ ! -s "$work/out/rc" ]; then
	echo "vmtest: the guest wrote no result; its console:" >&2
	tail -40 "$work/console" >&2
	exit 1
fi
cat "$work/out/log"
exit "$(cat "$work/out/rc")"
