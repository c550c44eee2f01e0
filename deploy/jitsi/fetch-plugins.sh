#!/bin/sh
# Fetch the community Prosody module mod_token_affiliation (jitsi-contrib/prosody-plugins) at a
# pinned commit and check its SHA-256 before it goes anywhere near Prosody.
#
#   deploy/jitsi/fetch-plugins.sh DIR
#
# DIR: docker-jitsi-meet: the folder the compose override mounts at /prosody-plugins-custom
#      (deploy/jitsi/docker/prosody-plugins-custom); Debian: /usr/local/share/plein/prosody-plugins.
#
# Only Jitsi releases that do not ship their own mod_token_affiliation.lua need this file. Newer
# jitsi-meet-prosody packages (and jitsi/prosody images built from them) have the official module;
# Prosody then loads that one, because the stock plugin folder comes first in plugin_paths.
# The code is not copied into Plein's tree: the operator fetches it, pinned and checked.
set -eu

# jitsi-contrib/prosody-plugins, path token_affiliation/mod_token_affiliation.lua at this commit.
# (The repository later renamed the module to token_affiliation_legacy/ after Jitsi shipped its
# own; a commit hash keeps this URL working regardless.)
COMMIT=0c7a732929082874c0f69689e653c5dd9be903f4
URL="https://raw.githubusercontent.com/jitsi-contrib/prosody-plugins/$COMMIT/token_affiliation/mod_token_affiliation.lua"
# SHA-256 of the file at that commit (2032 bytes). A different file is refused, never installed.
SHA256=9002d5a6987a70af2f70a515bd3d8803ad6b5d554b0d3cc6814d7d01eef7cf55

dir=${1:?usage: $0 DIR  (where Prosody looks for custom plugins)}
mkdir -p "$dir"
tmp=$(mktemp "$dir/.mod_token_affiliation.XXXXXX")
trap 'rm -f "$tmp"' EXIT

curl --fail --silent --show-error --location --proto '=https' --output "$tmp" "$URL"
got=$(sha256sum "$tmp" | cut -d' ' -f1)
if [ "$got" != "$SHA256" ]; then
    echo "refused: $URL" >&2
    echo "  sha256 $got, expected $SHA256" >&2
    echo "  nothing was installed; compare the file with the one on GitHub at commit $COMMIT" >&2
    exit 1
fi
chmod 0644 "$tmp"
mv "$tmp" "$dir/mod_token_affiliation.lua"   # atomic: Prosody never sees half a file
trap - EXIT
echo "installed $dir/mod_token_affiliation.lua (jitsi-contrib/prosody-plugins@${COMMIT%${COMMIT#???????}}, sha256 ok)"
