export { TasksView } from './TasksView';
