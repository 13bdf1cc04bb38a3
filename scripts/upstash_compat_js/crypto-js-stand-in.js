// Stands in for crypto-js, which qstash-js's Receiver uses only as SHA256(text).toString(enc.Base64url):
// its repository holds no built module, and npm is out of reach here.
const nodeCrypto = require("node:crypto");
module.exports = {
  SHA256: (text) => ({ toString: () => nodeCrypto.createHash("sha256").update(text, "utf8").digest("base64url") }),
  enc: { Base64url: "base64url" },
};
