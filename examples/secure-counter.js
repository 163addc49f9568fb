// secure-counter.js
var ownerId
exports.init = () => {
  if (ownerId) throw new Error('I already have an owner!')
  ownerId = env.callerId
}
var counter = 0
exports.increment = () => {
  if (env.callerId !== ownerId) throw new Error('You are not my owner!')
  return counter++
}
