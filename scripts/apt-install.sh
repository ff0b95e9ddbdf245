# Sourced by scripts that need Debian packages: `apt_install LABEL PKG...` installs the
# packages that are not installed yet (apt-get update once, no recommends), with sudo when
# not root, and says which on stderr. One copy for setup.sh and the corpus scripts.
apt_install() {
  local label=$1; shift
  local need=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
  done
  ((${#need[@]})) || return 0
  echo "$label: installing Debian packages: ${need[*]}" >&2
  local sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
}
