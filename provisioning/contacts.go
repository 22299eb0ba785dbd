package provisioning

import (
	"fmt"
	"strings"

	"github.com/callbox/callbox/config"
)

// Contact is one speed-dial entry as the page edits it: who, and the room
// that reaches them. Speed dial N (a button's speed_dial_N) calls the Nth.
type Contact struct {
	Name string `json:"name"`
	Room string `json:"room"`
}

const maxContacts = 20

// contactsOf reads the contacts out of the settings, in speed-dial order.
func contactsOf(c config.Controls) []Contact {
	out := make([]Contact, 0, len(c.Contacts))
	for _, room := range c.Contacts {
		name := c.ContactNames[room]
		if name == "" {
			name = room
		}
		out = append(out, Contact{Name: name, Room: room})
	}
	return out
}

// applyContacts puts the page's contacts into the settings, saying what is
// wrong by form field: contacts.N.name or contacts.N.room (N from 1, as
// speed dial counts).
func applyContacts(list []Contact, c config.Controls) (config.Controls, []fieldError) {
	var bad []fieldError
	if len(list) > maxContacts {
		return c, []fieldError{{"contacts", fmt.Sprintf("has %d contacts; the box keeps at most %d", len(list), maxContacts)}}
	}
	rooms := make([]string, 0, len(list))
	names := map[string]string{}
	for i, ct := range list {
		field := fmt.Sprintf("contacts.%d.", i+1)
		name, room := strings.TrimSpace(ct.Name), strings.TrimSpace(ct.Room)
		if name == "" {
			bad = append(bad, fieldError{field + "name", "is empty: say who this contact is"})
		} else if err := config.CheckName(name, config.MaxNameLength); err != nil {
			bad = append(bad, fieldError{field + "name", err.Error()})
		}
		if room == "" {
			bad = append(bad, fieldError{field + "room", "is empty: give the room that reaches this contact"})
		} else if err := config.CheckName(room, config.MaxRoomLength); err != nil {
			bad = append(bad, fieldError{field + "room", err.Error()})
		} else {
			for j, other := range rooms {
				if other == room {
					bad = append(bad, fieldError{field + "room", fmt.Sprintf("%q is contact %d already", room, j+1)})
				}
			}
		}
		rooms = append(rooms, room)
		if name != "" && name != room {
			names[room] = name
		}
	}
	if len(bad) > 0 {
		return c, bad
	}
	c.Contacts, c.ContactNames = nil, nil
	if len(rooms) > 0 {
		c.Contacts = rooms
	}
	if len(names) > 0 {
		c.ContactNames = names
	}
	return c, nil
}
