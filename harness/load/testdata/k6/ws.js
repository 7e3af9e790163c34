import ws from 'k6/ws';
import { Counter } from 'k6/metrics';

const msgs = new Counter('ws_msgs');

export const options = {
  scenarios: {
    subs: { executor: 'per-vu-iterations', vus: Number(__ENV.VUS || 1000), iterations: 1, maxDuration: '120s' },
  },
};

// Each VU holds one connection for HOLD seconds and counts what arrives:
// the least work a k6 subscriber can do.
export default function () {
  ws.connect(__ENV.WS_URL, {}, function (socket) {
    socket.on('message', function () { msgs.add(1); });
    socket.setTimeout(function () { socket.close(); }, Number(__ENV.HOLD || 30) * 1000);
  });
}
