export { AgentsView } from './AgentsView';
