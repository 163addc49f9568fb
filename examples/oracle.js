module.exports = async function () {
  var value = await System.oracle(() => Math.random())
  await System.files.writeFile('/latest', value)
  return value
}
