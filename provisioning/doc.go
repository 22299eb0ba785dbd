// Package provisioning owns setting the box up from a phone: the HTTPS page
// and JSON API served by callboxd (first-boot setup, login, settings,
// status, call controls, factory reset), the config store in the data
// directory (atomic saves, the previous good settings kept and fallen back
// to), the admin password hash, sessions, CSRF tokens and the login back-off.
//
// It reads the call's state through the Controller the daemon gives it and
// never runs the call itself; it never returns or logs a secret (API secret,
// token, room key, password, setup code).
package provisioning
