package persist

// NotNeeded is the one advice for a declared path whose live data lies on
// a persistent file system other than the root (a /home subvolume), not
// mounted from its persistent copy or mounted from it: drift lint's
// already-persistent, drift check's row and warning for it (covered) and
// drift suggest's reason for leaving it to the user all say it. The wipe
// never touches that file system, so the declaration keeps nothing the
// file system does not keep already; while it stands, every boot mounts
// the persistent copy over the path, hiding what lies there. Removing the
// declaration keeps the data in view, once what the persistent copy holds
// of it is moved onto that file system (lint's hint has the steps):
// neither hidden nor lost. drift adopt, which copies the live data into
// the copy, keeps it too, declared (check and suggest print that command
// beside this).
const NotNeeded = "the declaration is not needed there (the wipe does not touch that file system), and while it stands every boot mounts the persistent copy over the path: remove it, after moving onto that file system what the persistent copy holds of it, and the data stays in view"
