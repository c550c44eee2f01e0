-- The parts of /etc/prosody/conf.avail/<domain>.cfg.lua that Plein needs (Debian packages
-- jitsi-meet + jitsi-meet-tokens). This is an excerpt to merge by hand, not a file to include:
-- Prosody must see each VirtualHost and Component once. meet.example.org stands for your domain.

-- 1. Top of the file: add Plein's plugin folder AFTER the stock one. Jitsi releases that ship their
--    own mod_token_affiliation.lua load that one (first folder wins); older ones load the pinned
--    copy that deploy/jitsi/fetch-plugins.sh put in the second folder.
plugin_paths = { "/usr/share/jitsi-meet/prosody-plugins/", "/usr/local/share/plein/prosody-plugins/" }

-- 2. The main virtual host: jitsi-meet-tokens already switched it to tokens and wrote app_id and
--    app_secret (Plein's JITSI_APP_ID and JITSI_APP_SECRET). Check them, and keep empty tokens out.
VirtualHost "meet.example.org"
    authentication = "token"
    app_id = "plein"
    app_secret = "the same long random secret as JITSI_APP_SECRET"
    allow_empty_token = false
    modules_enabled = {
        -- ... keep every module already listed, and add (optional, for the console's room counts):
        "muc_size";
    }

-- 3. The conference MUC component: token_verification (jitsi-meet-tokens enables it) checks that
--    the token is for this room; token_affiliation makes the token's host owner (moderator) and
--    everyone else member.
Component "conference.meet.example.org" "muc"
    modules_enabled = {
        -- ... keep every module already listed, and make sure these two are there:
        "token_verification";
        "token_affiliation";
    }
    -- Only matters if muc_wait_for_host is enabled here: without it that module makes every
    -- token holder an owner. Harmless otherwise.
    wait_for_host_disable_auto_owners = true
