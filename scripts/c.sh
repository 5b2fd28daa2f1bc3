#!/usr/bin/env bash
# libbeamlink, the C binding (bindings/c):
#   scripts/c.sh header          regenerate include/beamlink.h from bindings/c/src (commit it)
#   scripts/c.sh install PREFIX  build in release mode and install PREFIX/include/beamlink.h,
#                                PREFIX/lib/libbeamlink.{so,a} and PREFIX/lib/pkgconfig/beamlink.pc
#   scripts/c.sh test            the `make test` suite: the header is current, then the C
#                                examples and test programs against OTP 25 and OTP 28 nodes,
#                                plain, under valgrind and with ASan/UBSan
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
target_dir="${CARGO_TARGET_DIR:-$root/target}"

# install PREFIX PROFILE: copies the artifacts of `cargo build [--release] -p beamlink-c`.
install_to() {
  local prefix=$1 profile=$2 version so_real
  mkdir -p "$prefix"
  prefix=$(cd "$prefix" && pwd)
  version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
  so_real="libbeamlink.so.$version"
  install -d "$prefix/include" "$prefix/lib/pkgconfig"
  install -m 644 include/beamlink.h "$prefix/include/beamlink.h"
  install -m 755 "$target_dir/$profile/libbeamlink_c.so" "$prefix/lib/$so_real"
  ln -sf "$so_real" "$prefix/lib/libbeamlink.so.0"
  ln -sf libbeamlink.so.0 "$prefix/lib/libbeamlink.so"
  install -m 644 "$target_dir/$profile/libbeamlink_c.a" "$prefix/lib/libbeamlink.a"
  sed -e "s|@PREFIX@|$prefix|" -e "s|@VERSION@|$version|" bindings/c/beamlink.pc.in \
    >"$prefix/lib/pkgconfig/beamlink.pc"
  echo "installed libbeamlink $version in $prefix"
}

case "${1:-}" in
  header)
    BEAMLINK_UPDATE_HEADER=1 cargo build --quiet -p beamlink-c
    echo "wrote include/beamlink.h"
    ;;
  install)
    [ $# -eq 2 ] || { echo "usage: scripts/c.sh install PREFIX" >&2; exit 64; }
    cargo build --quiet --release -p beamlink-c
    install_to "$2" release
    ;;
  test)
    cargo test --quiet -p beamlink-c --lib header_is_current
    cargo build --quiet -p beamlink-c
    stage="$target_dir/c/stage"
    rm -rf "$stage"
    install_to "$stage" debug >/dev/null
    BEAMLINK_C_STAGE="$stage" cargo test --quiet -p beamlink-c --test c_programs
    ;;
  *)
    echo "usage: scripts/c.sh header | install PREFIX | test" >&2
    exit 64
    ;;
esac
