// Package provisioning owns setting the box up from a phone: the HTTPS page
// and JSON API served by callboxd (first-boot setup, login, settings,
// status, call controls, factory reset), the config store in the data
// directory (atomic saves, the previous good settings kept and fallen back
// to), the admin password hash, sessions, CSRF tokens and the login back-off.
//
// It reads the call's state through the Controller the daemon gives it and
// never runs the call itself. It never returns a secret (API secret, token,
// room key, password, setup code) in an answer, and never logs one, with one
// exception on purpose: the setup code is logged when setup opens
// (AnnounceSetup). It proves that whoever sets the box up is at the box: on
// a box with a screen they read it there, on a box without one from its
// console (journalctl -u callboxd). The log stays on the box: root reads it
// there, and the page's log viewer is for the admin only, who does not
// exist until setup is done, and then the code no longer opens anything.
package provisioning
