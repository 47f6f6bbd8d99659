/** The session store an express-openid-connect app needs for back-channel logout, in memory. */
export function memorySessionStore() {
  const data = new Map<string, unknown>();
  return {
    get: (id: string, cb: (err: null, v?: unknown) => void) => cb(null, data.get(id)),
    set: (id: string, v: unknown, cb: (err: null) => void) => {
      data.set(id, v);
      cb(null);
    },
    destroy: (id: string, cb: (err: null) => void) => {
      data.delete(id);
      cb(null);
    },
  };
}
