import React from 'react';

export default class Dashboard extends React.Component {
  constructor(props) {
    super(props);
    this.state = { clicks: 0 };
    this.handleClick = this.handleClick.bind(this);
    this.handleReset = this.handleReset.bind(this);
  }

  componentDidMount() {
    document.title = `${this.props.title} (${this.state.clicks})`;
  }

  componentDidUpdate() {
    document.title = `${this.props.title} (${this.state.clicks})`;
  }

  handleClick() {
    this.setState((state) => ({ clicks: state.clicks + 1 }));
  }

  handleReset() {
    this.setState({ clicks: 0 });
  }

  render() {
    return (
      <section>
        <h1>{this.props.title}</h1>
        <p>
          Clicks: <strong data-testid="clicks">{this.state.clicks}</strong>
        </p>
        <button onClick={this.handleClick}>Add</button>
        <button onClick={this.handleReset}>Reset</button>
      </section>
    );
  }
}
