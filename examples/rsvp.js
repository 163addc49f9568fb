// contract.js (a simple guest list example)
exports.init = async () => {
  await System.files.mkdir('/rsvps')
}

// method to tell the host if you're attending the party
exports.RSVP = async (name, isAttending, reason) => {
  // -- validate parameters here --

  // write the RSVP as a file in /rsvps
  const id = System.caller.id
  const path = `/rsvps/${id}.json`
  const record = {id, name, isAttending, reason}
  await System.files.writeFile(path, JSON.stringify(record))
}
