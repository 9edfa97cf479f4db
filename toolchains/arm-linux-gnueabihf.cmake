# 32-bit ARM (hard float): Raspberry Pi 2, 3, 4 and Zero 2 W on 32-bit Raspberry Pi OS.
# Debian's armhf is ARMv7: its binaries do not run on the ARMv6 Pi Zero, Zero W and Pi 1
# (see README, "Cross-compile yourself", for building against a Raspberry Pi OS sysroot).
#   sudo dpkg --add-architecture armhf && sudo apt-get update
#   sudo apt-get install gcc-arm-linux-gnueabihf libopus-dev:armhf libasound2-dev:armhf \
#        libgpiod-dev:armhf [libcmocka-dev:armhf qemu-user]
#   cmake -B build/armhf -DCMAKE_TOOLCHAIN_FILE=toolchains/arm-linux-gnueabihf.cmake
set(CMAKE_SYSTEM_PROCESSOR arm)
set(IC_TRIPLET arm-linux-gnueabihf)
set(IC_QEMU qemu-arm)
include(${CMAKE_CURRENT_LIST_DIR}/debian-cross.cmake)
