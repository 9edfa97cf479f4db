# Shared by the per-target toolchain files: cross-compile with Debian's cross compiler
# (gcc-TRIPLET) against Debian's multiarch -dev packages (dpkg --add-architecture ARCH,
# then apt-get install libopus-dev:ARCH ...), or against a board's own root filesystem
# when -DIC_SYSROOT=/path/to/rootfs is given (a Raspberry Pi OS image, see README).
# The including file sets CMAKE_SYSTEM_PROCESSOR, IC_TRIPLET and IC_QEMU.

set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_C_COMPILER ${IC_TRIPLET}-gcc)

set(IC_SYSROOT "" CACHE PATH "A target root filesystem to build against (empty: Debian multiarch)")
# try_compile projects re-read this file: hand the setting down to them
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES IC_SYSROOT)

if(IC_SYSROOT)
  set(CMAKE_SYSROOT ${IC_SYSROOT})
  set(CMAKE_FIND_ROOT_PATH ${IC_SYSROOT})
  set(ENV{PKG_CONFIG_SYSROOT_DIR} ${IC_SYSROOT})
  set(_ic_pc ${IC_SYSROOT}/usr/lib/${IC_TRIPLET}/pkgconfig ${IC_SYSROOT}/usr/share/pkgconfig)
  set(_ic_qemu_root ${IC_SYSROOT})
else()
  # multiarch: headers in /usr/include, libraries in /usr/lib/TRIPLET, which Debian's
  # cross gcc searches by itself
  set(ENV{PKG_CONFIG_SYSROOT_DIR} "")
  set(_ic_pc /usr/lib/${IC_TRIPLET}/pkgconfig /usr/share/pkgconfig)
  set(_ic_qemu_root /usr/${IC_TRIPLET})
endif()
# only the target's .pc files, never the build machine's
string(REPLACE ";" ":" _ic_pc "${_ic_pc}")
set(ENV{PKG_CONFIG_LIBDIR} ${_ic_pc})
set(ENV{PKG_CONFIG_PATH} "")

set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# ctest runs the target's programs through qemu user emulation when it is installed
# (apt-get install qemu-user): unit tests of an ARM build run on a PC.
find_program(IC_QEMU_PROGRAM ${IC_QEMU})
if(IC_QEMU_PROGRAM)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${IC_QEMU_PROGRAM} -L ${_ic_qemu_root})
endif()
