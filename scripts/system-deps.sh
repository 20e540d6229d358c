#!/usr/bin/env bash
# Installs with apt what the suite needs and the machine lacks: PostgreSQL binaries (unless TEST_DATABASE_URL
# points to a server), Debian's chromium (Playwright drives it), Tesseract with Italian data, LibreOffice
# (export checks), poppler, the DejaVu fonts (the OCR tests render their pages with them) and Dovecot (the
# archive's IMAP intake is tested against a local dovecot-imapd). Does nothing when everything is there.
set -euo pipefail
want=()
if [ "${1:-}" = "python" ]; then want+=(python3-venv); fi
if [ "${1:-}" = "test" ]; then
  if [ -z "${TEST_DATABASE_URL:-}" ] && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then want+=(postgresql); fi
  command -v chromium >/dev/null 2>&1 || want+=(chromium)
  command -v tesseract >/dev/null 2>&1 || want+=(tesseract-ocr)
  [ -e /usr/share/tesseract-ocr/5/tessdata/ita.traineddata ] || ls /usr/share/tesseract-ocr/*/tessdata/ita.traineddata >/dev/null 2>&1 || want+=(tesseract-ocr-ita)
  command -v libreoffice >/dev/null 2>&1 || want+=(libreoffice-calc-nogui libreoffice-writer-nogui)
  command -v pdftoppm >/dev/null 2>&1 || want+=(poppler-utils)
  [ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || want+=(fonts-dejavu-core)  # tests/ocr pages
  [ -x /usr/sbin/dovecot ] || command -v dovecot >/dev/null 2>&1 || want+=(dovecot-imapd)
fi
[ ${#want[@]} -eq 0 ] && exit 0
echo "Installo con apt: ${want[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${want[@]}"
