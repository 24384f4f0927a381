# Every third-party dependency, found the standard way. A missing one stops the configure step
# with the Debian package that provides it (scripts/setup.sh installs them all).
find_package(PkgConfig REQUIRED)

function(opswall_require_pkg var module debian_pkg)
  pkg_check_modules(${var} QUIET IMPORTED_TARGET ${module})
  if(NOT ${var}_FOUND)
    message(FATAL_ERROR "opswall: '${module}' not found. Install it with: "
                        "sudo apt-get install ${debian_pkg}   (or run scripts/setup.sh)")
  endif()
  message(STATUS "opswall: ${module} ${${var}_VERSION}")
endfunction()

opswall_require_pkg(CJSON    "libcjson>=1.7"       libcjson-dev)
opswall_require_pkg(HIREDIS  "hiredis>=0.14"       libhiredis-dev)
opswall_require_pkg(UV       "libuv>=1.44"         libuv1-dev)
opswall_require_pkg(LWS      "libwebsockets>=4.1"  libwebsockets-dev)
opswall_require_pkg(SDL2     "sdl2>=2.0.20"        libsdl2-dev)
opswall_require_pkg(SDL2TTF  "SDL2_ttf>=2.0.18"    libsdl2-ttf-dev)
opswall_require_pkg(SDL2IMG  "SDL2_image>=2.0.5"   libsdl2-image-dev)
opswall_require_pkg(FONTCONFIG "fontconfig"        libfontconfig-dev)
opswall_require_pkg(OPENSSL  "openssl>=3.0"        libssl-dev)
opswall_require_pkg(ZLIB     "zlib"                zlib1g-dev)
if(BUILD_TESTING OR NOT DEFINED BUILD_TESTING)
  opswall_require_pkg(CMOCKA "cmocka>=1.1"         libcmocka-dev)
endif()
find_library(MATH_LIB m REQUIRED)
