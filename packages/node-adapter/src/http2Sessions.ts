import type { Http2SecureServer, Http2Server, ServerHttp2Session } from 'node:http2';

/**
 * The open sessions of each instrumented HTTP/2 server. Node does not list
 * them, and `server.close()` waits for every one, idle ones included: `drain`
 * needs them to send GOAWAY.
 */
const sessionsByServer = new WeakMap<object, Set<ServerHttp2Session>>();

/** Starts remembering `server`'s sessions; returns the function that stops it. */
export function rememberSessions(server: Http2Server | Http2SecureServer): () => void {
  const sessions = new Set<ServerHttp2Session>();
  sessionsByServer.set(server, sessions);
  const onSession = (session: ServerHttp2Session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
  };
  server.on('session', onSession);
  return () => {
    server.removeListener('session', onSession);
    sessionsByServer.delete(server);
  };
}

/** The open sessions of an instrumented HTTP/2 server (empty for any other server). */
export function sessionsOf(server: object): ReadonlySet<ServerHttp2Session> {
  return sessionsByServer.get(server) ?? new Set();
}
