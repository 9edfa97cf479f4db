# 64-bit ARM: Raspberry Pi 3, 4, 5 and Zero 2 W running 64-bit Raspberry Pi OS or Debian.
#   sudo dpkg --add-architecture arm64 && sudo apt-get update
#   sudo apt-get install gcc-aarch64-linux-gnu libopus-dev:arm64 libasound2-dev:arm64 \
#        libgpiod-dev:arm64 [libcmocka-dev:arm64 qemu-user]
#   cmake -B build/arm64 -DCMAKE_TOOLCHAIN_FILE=toolchains/aarch64-linux-gnu.cmake
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(IC_TRIPLET aarch64-linux-gnu)
set(IC_QEMU qemu-aarch64)
include(${CMAKE_CURRENT_LIST_DIR}/debian-cross.cmake)
