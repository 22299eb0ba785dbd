package call

// Members lists the others in the room now, in the order they joined; none
// when the box is not in a room. Unlike RemoteOptions.OnMembers it is read
// on demand (the setup page's status), and it also counts those who were
// there before the box joined and publish nothing.
func (s *Session) Members() []Member { return s.remote.members() }
