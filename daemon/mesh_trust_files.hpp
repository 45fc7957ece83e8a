// The `mesh:` files of the configuration turned into the trust the node
// runs with (mesh/mesh_trust.hpp): CA public keys, revocation lists (each
// signed by one of those CAs) and this node's own certificate, which must be
// for this node's key and ZID. Read at start and on every reload.
#pragma once

#include <memory>

#include "config/config.hpp"
#include "identity/key_file.hpp"
#include "mesh/mesh_trust.hpp"

namespace zeq {

// Null when `mesh:` names nothing. An unreadable or damaged file, a list no
// trusted CA signed, or a certificate for another key is an error naming
// the file and the fix; an own certificate that is expired, not yet valid,
// or expiring within 7 days is a warning in the log. Revocation lists only
// move forward: a list in `previous` (the trust in force) for a CA still
// trusted stays when the files hold an older one or none (a warning says
// so), so a reload with an old file never un-revokes anyone.
Result<std::shared_ptr<const TrustSettings>> load_mesh_trust(const MeshConfig& mesh, const PublicKey& own_key,
                                                            const std::string& own_zid, uint64_t now_z,
                                                            const TrustSettings* previous);

}  // namespace zeq
