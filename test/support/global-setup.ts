import { clearLogs } from './log-scan';

export default function globalSetup(): void {
  clearLogs();
}
