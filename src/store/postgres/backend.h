// backend.h: the PostgreSQL backend — every part of store/backend.h over one
// connection pool on one database, migrated at open (see schema.h).
#pragma once

#include "store/backend.h"

namespace keyward::store::postgres {

// `options.location` is a postgres:// or postgresql:// URI (libpq's syntax,
// sslmode and friends included). kUnavailable if the server cannot be
// reached; kFailedPrecondition if its schema is too new for this build.
StatusOr<BackendPtr> OpenBackend(const StoreOptions& options);

}  // namespace keyward::store::postgres
