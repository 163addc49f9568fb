// persistent-counter.js, corrected: a missing /counter counts as 0
const fs = System.files
exports.increment = async function () {
  var i
  try {
    i = await fs.readFile('/counter', 'json')
  } catch (e) {
    if (e.code !== 'ENOENT') throw e
    i = 0
  }
  i++
  await fs.writeFile('/counter', i)
  return i
}
