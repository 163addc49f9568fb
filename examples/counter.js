// counter.js
var i = 0
exports.increment = function () {
  i++
  return i
}
