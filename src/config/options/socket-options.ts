import { boolean, integer, octalMode, owner, vassalSocketAddress } from '../values.js';
import { option } from './option-spec.js';

export const SOCKET = option({
  name: 'socket',
  aliases: ['uwsgi-socket', 'http-socket', 's'],
  type: vassalSocketAddress,
  list: true,
  scope: 'vassal',
  doc: 'A listening socket the supervisor binds and hands to every worker (fd 3, 4, ... with LISTEN_FDS): a unix path (relative to the vassal file\'s directory) or host:port; repeatable. `systemd:NAME` is the socket systemd passed the emperor with FileDescriptorName=NAME (a .socket unit), used as it is, never bound (a name of digits only stays uWSGI\'s host:port).',
  uwsgi: 'socket; the protocol spoken on it is the app\'s business, so http-socket and uwsgi-socket are the same here',
});

export const CHMOD_SOCKET = option({
  name: 'chmod-socket',
  type: octalMode,
  scope: 'vassal',
  bare: '666',
  doc: 'Permission bits (octal) of unix sockets, set before they start listening; a bare key means 666, as in uWSGI.',
  uwsgi: 'chmod-socket',
});

export const CHOWN_SOCKET = option({
  name: 'chown-socket',
  type: owner,
  scope: 'vassal',
  doc: 'Owner of unix sockets, user[:group] (names or numbers), set before they start listening: e.g. root:www-data with chmod-socket = 660 lets nginx connect and nobody else.',
  uwsgi: 'chown-socket',
});

export const VACUUM = option({
  name: 'vacuum',
  type: boolean,
  scope: 'vassal',
  default: 'false',
  bare: 'true',
  doc: 'Remove the group\'s unix socket files when the group stops.',
  uwsgi: 'vacuum',
});

export const LISTEN = option({
  name: 'listen',
  aliases: ['l'],
  type: integer(1, 65535, 'connections'),
  scope: 'vassal',
  default: '511',
  doc: 'Listen backlog: connections the kernel queues while no worker is accepting (capped by net.core.somaxconn).',
  uwsgi: 'listen (uWSGI default 100)',
});

export const SOCKET_OPTIONS = [SOCKET, CHMOD_SOCKET, CHOWN_SOCKET, VACUUM, LISTEN] as const;
